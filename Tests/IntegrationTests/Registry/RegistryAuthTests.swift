import Foundation
import Testing

extension Containers {
    /// A registry with htpasswd (Basic) auth: refused without credentials, `login` checks and
    /// keeps them (0600, never printed), `logout` forgets them.
    @Suite("RegistryAuth", .serialized)
    struct RegistryAuth {
        let fixture = Fixture.shared

        @Test("401 without credentials; login, push and pull with them; logout")
        func basicAuth() throws {
            // bcrypt, which the registry's htpasswd needs, from python3's crypt (no apache2-utils).
            let script = "import crypt; print(crypt.crypt('s3cret-pw', crypt.mksalt(crypt.METHOD_BLOWFISH)))"
            let hash = try Command.run("/usr/bin/env", ["python3", "-W", "ignore", "-c", script])
            try #require(hash.status == 0 && hash.output.hasPrefix("$2"), "\(hash.stderr)")
            let registry = try RegistryServer(htpasswd: "ada:\(hash.output)\n")
            defer { registry.stop() }
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let home = store.path + "-home"
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: home) }
            func berth(_ args: [String], stdin: String? = nil) throws -> Command.Result {
                try Command.run("/usr/bin/env", ["HOME=\(home)", "XDG_CONFIG_HOME=", fixture.berth, "--root", store.path] + args,
                                stdin: stdin, timeout: 120)
            }
            try store.importBusybox("app:v1")
            let name = "\(registry.address)/me/app:v1"
            try #require(try store.berth(["tag", "app:v1", name]).status == 0)

            let refused = try berth(["push", name])
            #expect(refused.status == 1, "\(refused.stdout) \(refused.stderr)")
            #expect(refused.stderr.contains("berth login \(registry.address)"), "\(refused.stderr)")

            let wrong = try berth(["login", registry.address, "-u", "ada", "--password-stdin"], stdin: "nope\n")
            #expect(wrong.status == 1, "\(wrong.stderr)")
            let login = try berth(["login", registry.address, "-u", "ada", "--password-stdin"], stdin: "s3cret-pw\n")
            #expect(login.status == 0, "\(login.stderr)")
            #expect(!(login.stdout + login.stderr).contains("s3cret-pw"))
            var st = stat()
            #expect(stat(home + "/.config/berth/config.json", &st) == 0 && st.st_mode & 0o777 == 0o600)

            let pushed = try berth(["push", name])
            #expect(pushed.status == 0, "\(pushed.stderr)")
            #expect(!(pushed.stdout + pushed.stderr).contains("s3cret-pw"))
            try #require(try store.berth(["rmi", name]).status == 0)
            let pulled = try berth(["pull", name])
            #expect(pulled.status == 0, "\(pulled.stderr)")

            let logout = try berth(["logout", registry.address])
            #expect(logout.status == 0, "\(logout.stderr)")
            let after = try berth(["pull", "\(registry.address)/me/app:v1"])
            #expect(after.status == 1, "\(after.stderr)")
        }
    }
}
