import Foundation
import Testing

extension Containers {
    /// The Bearer token flow against a registry with `auth.token` and the test's own token
    /// service (Fixtures/token-server.py): the challenge's realm asked for a token for the scope,
    /// with the stored credentials.
    @Suite("RegistryToken", .serialized)
    struct RegistryToken {
        let fixture = Fixture.shared

        @Test("Bearer tokens: anonymous pull refused with a 401 line; login, push and pull through the token service")
        func bearer() throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-token-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try TestCertificates.makeSelfSigned("signer", in: directory)
            let log = directory + "/scopes.log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let tokenPort = try RegistryServer.freePort()
            let service = Process()
            service.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            service.arguments = [fixture.repository.appendingPathComponent("Tests/IntegrationTests/Fixtures/token-server.py").path,
                                 "--port", "\(tokenPort)", "--key", directory + "/signer.key", "--cert", directory + "/signer.crt",
                                 "--issuer", "berth-test-issuer", "--service", "berth-test-registry",
                                 "--user", "ada", "--password", "s3cret-pw", "--log", log]
            service.standardOutput = FileHandle.nullDevice
            try service.run()
            defer {
                kill(service.processIdentifier, SIGKILL)
                service.waitUntilExit()
            }
            _ = eventually(within: 10, poll: 0.05) { RegistryServer.accepts(tokenPort) }
            let registry = try RegistryServer(token: .init(realm: "http://127.0.0.1:\(tokenPort)/token", service: "berth-test-registry",
                                                           issuer: "berth-test-issuer", rootCertificates: directory + "/signer.crt"))
            defer { registry.stop() }

            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let home = store.path + "-home", anonymousHome = store.path + "-anonymous"
            for path in [home, anonymousHome] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
            func berth(_ root: ImageStoreRoot, _ args: [String], home other: String? = nil, stdin: String? = nil) throws -> Command.Result {
                let home = other ?? home
                return try Command.run("/usr/bin/env", ["HOME=\(home)", "XDG_CONFIG_HOME=", fixture.berth, "--root", root.path]
                                + Fixture.offline(args), stdin: stdin, timeout: 120)
            }
            let tree = try store.busyboxCopy(files: ["etc/motd": "behind a token\n"])
            try #require(try store.berth(["import", tree, "app:src"]).status == 0)
            let name = "\(registry.address)/me/app:v1"
            try #require(try store.berth(["tag", "app:src", name]).status == 0)
            let digest = try #require(table(try store.berth(["images", "--digests"]).stdout).first { $0["TAG"] == "v1" }?["DIGEST"])

            let wrong = try berth(store, ["login", registry.address, "-u", "ada", "--password-stdin"], stdin: "nope\n")
            #expect(wrong.status == 1, "\(wrong.stdout) \(wrong.stderr)")
            let login = try berth(store, ["login", registry.address, "-u", "ada", "--password-stdin"], stdin: "s3cret-pw\n")
            #expect(login.status == 0, "\(login.stderr)")
            let pushed = try berth(store, ["push", name])
            try #require(pushed.status == 0, "\(pushed.stderr)")
            #expect(pushed.stdout.contains("v1: digest: \(digest)"), "\(pushed.stdout)")
            #expect(!(pushed.stdout + pushed.stderr).contains("s3cret-pw"))
            let inspected = try Command.run("/usr/bin/skopeo", ["inspect", "--tls-verify=false", "--creds", "ada:s3cret-pw",
                                                               "--format", "{{.Digest}}", "docker://\(name)"], timeout: 60)
            #expect(inspected.output == digest, "skopeo, through the same token service: \(inspected.stderr)")

            // Anonymous: the service gives a token without access, the registry answers 401.
            let other = try ImageStoreRoot(fixture)
            defer { other.destroy() }
            _ = try other.berth(["images"])
            let before = other.listing()
            let anonymous = try berth(other, ["pull", name], home: anonymousHome)
            #expect(anonymous.status == 1, "\(anonymous.stdout) \(anonymous.stderr)")
            #expect(anonymous.stderr.split(separator: "\n").filter { !$0.contains("warning:") }.count == 1, "\(anonymous.stderr)")
            #expect(anonymous.stderr.contains("401") && anonymous.stderr.contains("berth login \(registry.address)"), "\(anonymous.stderr)")
            #expect(other.listing() == before, "the store changed")

            let pulled = try berth(other, ["pull", name])
            try #require(pulled.status == 0, "\(pulled.stderr)")
            #expect(pulled.stdout.contains("Digest: \(digest)"), "\(pulled.stdout)")
            let ran = try berth(other, ["run", "--rm", "--cgroup-parent", fixture.cgroupParent, "--pull", "never", name, "cat", "/etc/motd"])
            #expect(ran.stdout == "behind a token\n", "\(ran.stderr)")

            // What berth asked the token service for, as whom.
            let asked = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(asked.contains("user=ada refused"), "the wrong password: \(asked)")
            #expect(asked.contains("user=ada scope=repository:me/app:pull,push granted=pull,push"), "the push: \(asked)")
            #expect(asked.contains("user=ada scope=repository:me/app:pull granted=pull"), "the pull: \(asked)")
            #expect(asked.contains("user=- scope=repository:me/app:pull granted="), "the anonymous pull: \(asked)")
        }
    }
}
