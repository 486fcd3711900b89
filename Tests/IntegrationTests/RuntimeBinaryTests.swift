import Foundation
import Testing

extension Containers {
    /// CVE-2019-5736: nothing in a container may reach the host's berth binary to write it. The
    /// attack runs against a copy of berth (and its two helpers), so that a success damages
    /// nothing but shows in the copy's hash.
    @Suite("Runtime binary")
    struct RuntimeBinary {
        let fixture = Fixture.shared

        /// berth, berth-monitor and berth-entry copied into a directory of their own.
        static func copyOfBerth(_ fixture: Fixture) throws -> (directory: String, berth: String) {
            let directory = fixture.workspace.appendingPathComponent("bin-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let products = URL(fileURLWithPath: fixture.berth).deletingLastPathComponent().path
            for program in ["berth", "berth-monitor", "berth-entry"] {
                try FileManager.default.copyItem(atPath: products + "/" + program, toPath: directory + "/" + program)
            }
            return (directory, directory + "/berth")
        }

        static func sha256(_ path: String) throws -> String {
            let r = try Command.run("/usr/bin/sha256sum", [path])
            return String(r.output.prefix(64))
        }

        @Test("a command naming /proc/self/exe runs berth-entry, which refuses to be a command, not berth")
        func procSelfExeAsCommand() throws {
            let r = try fixture.run([], ["/proc/self/exe", "--help"])
            #expect(r.status == 126)
            #expect(r.stderr.contains("berth-entry: starts a container's command for berth; it is not a command itself"),
                    "\(r.stderr)")
            #expect(!r.output.contains("USAGE") && !r.output.contains("berth run"), "berth itself ran: \(r.output)")
        }

        /// The classic attack, from a process inside the container (pid 2 under the init): it takes
        /// /proc/PID/exe of every process that appears, waits for each to end, and reopens it for
        /// writing. Meanwhile `berth exec` enters the container with a script whose interpreter is
        /// /proc/self/exe, with /proc/self/exe itself, and with /proc/self/exe as a command kept
        /// waiting on its stdin for a second (`load`), which berth's binary, were it reachable,
        /// would be.
        /// Under `--init`, pid 1 is berth-entry for the container's whole life, so the attack must
        /// see its sealed copy (were pid 1 berth's binary, it would be seen, but not written while
        /// it runs); without, the processes that come and go are what it can take.
        @Test("the exe-attack from inside sees only berth-entry's sealed copy and writes nothing; berth's hash is unchanged",
              .timeLimit(.minutes(2)), arguments: [true, false])
        func classicAttack(underInit: Bool) throws {
            if let setupError = fixture.setupError { throw FixtureError(message: setupError) }
            let (directory, berth) = try Self.copyOfBerth(fixture)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let before = try Self.sha256(berth)
            let evil = fixture.workspace.appendingPathComponent("evil-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: evil, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: evil) }
            try "#!/proc/self/exe\n".write(toFile: evil + "/script", atomically: true, encoding: .utf8)
            chmod(evil + "/script", 0o755)

            let root = try fixture.makeStateRoot()
            func copy(_ args: [String], timeout: Double = 60) throws -> Command.Result {
                try Command.run(berth, ["--root", root] + Fixture.offline(args), timeout: timeout)
            }
            #expect(try copy(["import", fixture.rootfs, "payload:1"]).status == 0)
            let started = try copy(["run", "-d"] + (underInit ? ["--init"] : []) + ["--name", "attack",
                                    "--cgroup-parent", fixture.cgroupParent, "-v", "\(evil):/evil", "payload:1",
                                    "/bin/payload", "exe-attack", "60", "/evil/stop"])
            #expect(started.status == 0, "\(started.stderr)")
            defer { _ = try? copy(["rm", "-f", "attack"]) }

            let script = try copy(["exec", "attack", "/evil/script"])
            #expect(script.status == 126, "\(script.stderr)")
            let direct = try copy(["exec", "attack", "/proc/self/exe", "--help"])
            #expect(direct.status == 126, "\(direct.stderr)")
            let waiting = try Command.run("/bin/sh", ["-c", "sleep 1 | \"$0\" --root \"$1\" exec -i attack /proc/self/exe load",
                                                      berth, root])
            #expect(waiting.status == 126, "\(waiting.stderr)")
            // Every berth process has ended: a file it ran is writable again, were it reachable.
            usleep(500_000)
            #expect(FileManager.default.createFile(atPath: evil + "/stop", contents: nil))
            var log = ""
            let done = try eventually(within: 30, poll: 0.1) {
                log = try copy(["logs", "attack"]).stdout
                return log.contains("DONE")
            }
            #expect(done, "the attack did not finish: \(log)")

            let seen = log.split(separator: "\n").filter { $0.hasPrefix("SEEN ") }
            if underInit {
                #expect(seen.contains { $0.hasPrefix("SEEN /memfd:berth-entry") }, "the init was not seen: \(log)")
            }
            #expect(!seen.contains { $0.contains(directory) }, "berth's binary was reachable: \(log)")
            #expect(!log.contains("WROTE"), "\(log)")
            #expect(try Self.sha256(berth) == before, "berth's binary changed")
        }
    }
}
