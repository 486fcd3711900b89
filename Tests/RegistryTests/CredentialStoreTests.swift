@testable import Registry
import Testing

/// Docker's config.json `auths`, which berth's own file shares.
@Suite("Credential files")
struct CredentialStoreTests {
    @Test("Docker's auths entries decode to user and password; others are skipped")
    func dockerConfig() throws {
        let config = #"""
            {"auths": {"localhost:5000": {"auth": "YWRhOnMzY3JldA=="}, "https://index.docker.io/v1/": {"auth": "Ym9iOnB3OmQ="},
                       "ghcr.io": {}}, "credsStore": "desktop"}
            """#
        let auths = try CredentialStore.parseAuths(Array(config.utf8), file: "config.json")
        #expect(auths.keys.sorted() == ["https://index.docker.io/v1/", "localhost:5000"])
        let ada = try CredentialStore.decode(try #require(auths["localhost:5000"]), registry: "localhost:5000", file: "f")
        #expect(ada == Credentials(username: "ada", password: "s3cret"))
        let bob = try CredentialStore.decode(try #require(auths["https://index.docker.io/v1/"]), registry: "docker.io", file: "f")
        #expect(bob == Credentials(username: "bob", password: "pw:d"), "a password may hold a colon")
    }

    @Test("a file that is not JSON, and an auth that is not user:password, are errors that name them")
    func damaged() {
        #expect(throws: RegistryError.self) { try CredentialStore.parseAuths(Array("nope".utf8), file: "x") }
        do {
            _ = try CredentialStore.decode("bm9jb2xvbg==", registry: "r", file: "/f")
            Issue.record("an auth without a colon decoded")
        } catch let error as RegistryError {
            #expect(error.message.contains("/f") && error.message.contains("berth login r"), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
