@testable import Registry
import Testing
#if canImport(Glibc)
import Glibc
#endif

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

    @Test("Docker's spellings of a registry are one registry", arguments: [
        ("docker.io", "docker.io"), ("index.docker.io", "docker.io"), ("https://index.docker.io/v1/", "docker.io"),
        ("registry-1.docker.io", "docker.io"), ("http://Index.Docker.io", "docker.io"),
        ("localhost:5000", "localhost:5000"), ("https://localhost:5000/v2/", "localhost:5000"), ("ghcr.io", "ghcr.io"),
    ])
    func registryName(server: String, name: String) {
        #expect(CredentialStore.registryName(server) == name)
    }

    @Test("login under one spelling of Docker Hub replaces another's entry; logout under a third removes it")
    func dockerHubAliases() throws {
        let directory = "/tmp/berth-credentials-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try #require(mkdir(directory, 0o700) == 0)
        let file = directory + "/config.json"
        defer {
            unlink(file)
            rmdir(directory)
        }
        // An entry as Docker writes it, copied into berth's file.
        let docker = #"{"auths": {"https://index.docker.io/v1/": {"auth": "b2xkOnB3"}, "localhost:5000": {"auth": "YWRhOnMzY3JldA=="}}}"#
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0)
        _ = docker.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        #expect(try CredentialStore.credentials(for: "docker.io", files: [file]) == Credentials(username: "old", password: "pw"))

        try CredentialStore.store(Credentials(username: "ada", password: "new"), for: "index.docker.io", file: file)
        #expect(try CredentialStore.readAuths(file).keys.sorted() == ["docker.io", "localhost:5000"], "one entry for Docker Hub")
        for spelling in ["docker.io", "https://index.docker.io/v1/", "registry-1.docker.io"] {
            #expect(try CredentialStore.credentials(for: spelling, files: [file]) == Credentials(username: "ada", password: "new"))
        }
        #expect(try CredentialStore.remove("registry-1.docker.io", file: file))
        #expect(try CredentialStore.credentials(for: "docker.io", files: [file]) == nil)
        #expect(try CredentialStore.remove("https://index.docker.io/v1/", file: file) == false, "nothing left to remove")
        #expect(try CredentialStore.credentials(for: "localhost:5000", files: [file]) == Credentials(username: "ada", password: "s3cret"))
    }
}
