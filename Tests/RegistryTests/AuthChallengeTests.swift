@testable import Registry
import Testing

/// `WWW-Authenticate` challenges as registries send them.
@Suite("Auth challenges")
struct AuthChallengeTests {
    @Test("Docker Hub's bearer challenge")
    func bearer() throws {
        let header = #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#
        let challenge = try #require(AuthChallenge.parse(header))
        #expect(challenge.scheme == .bearer)
        #expect(challenge.realm == "https://auth.docker.io/token")
        #expect(challenge.parameters["service"] == "registry.docker.io")
        #expect(challenge.parameters["scope"] == "repository:library/busybox:pull")
    }

    @Test("basic, unquoted values, escapes, odd spacing and case")
    func variants() throws {
        let basic = try #require(AuthChallenge.parse(#"Basic realm="Registry Realm""#))
        #expect(basic.scheme == .basic)
        #expect(basic.realm == "Registry Realm")
        let bare = try #require(AuthChallenge.parse("basic"))
        #expect(bare.scheme == .basic && bare.parameters.isEmpty)
        let odd = try #require(AuthChallenge.parse(#"BEARER  Realm=http://127.0.0.1:5001/token , scope="a\"b,c""#))
        #expect(odd.scheme == .bearer)
        #expect(odd.realm == "http://127.0.0.1:5001/token")
        #expect(odd.parameters["scope"] == #"a"b,c"#)
    }

    @Test("other schemes are not challenges berth answers")
    func unknown() {
        #expect(AuthChallenge.parse("Negotiate abc") == nil)
        #expect(AuthChallenge.parse("") == nil)
    }

    @Test("base64 both ways, and credentials never print their password")
    func base64Credentials() {
        #expect(base64(Array("ada:s3cret".utf8)) == "YWRhOnMzY3JldA==")
        #expect(base64(Array("a".utf8)) == "YQ==")
        #expect(base64(Array("ab".utf8)) == "YWI=")
        #expect(base64Decoded("YWRhOnMzY3JldA==").map { String(decoding: $0, as: UTF8.self) } == "ada:s3cret")
        #expect(base64Decoded("not base64!") == nil)
        let credentials = Credentials(username: "ada", password: "s3cret")
        #expect(!String(describing: credentials).contains("s3cret"))
        #expect(credentials.basicAuthorization == "Basic YWRhOnMzY3JldA==")
    }

    @Test("query values are percent-encoded")
    func encoding() {
        #expect(percentEncoded("repository:me/app:pull,push") == "repository%3Ame%2Fapp%3Apull%2Cpush")
    }
}
