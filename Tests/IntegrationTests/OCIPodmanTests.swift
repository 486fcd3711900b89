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
            static let ulimits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
            static let limits = ulimits + ["--network", "none"]

            init(_ fixture: Fixture) throws {
                if let setupError = fixture.setupError { throw FixtureError(message: setupError) }
                directory = try fixture.makeStateRoot()
                let berthOCI = URL(fileURLWithPath: fixture.berth).deletingLastPathComponent().appendingPathComponent("berth-oci").path
                // The runtime's state root is the test's own through a wrapper, not --runtime-flag:
                // podman's cleanup after a container's end (`podman container cleanup`, run by conmon)
                // calls the runtime without the flag, so its `delete` would look in the default root,
                // find nothing, and leave the container's cgroup behind.
                let runtime = directory + "/berth-oci"
                try "#!/bin/sh\nexec '\(berthOCI)' --root '\(directory)/oci-root' \"$@\"\n"
                    .write(toFile: runtime, atomically: true, encoding: .utf8)
                chmod(runtime, 0o755)
                global = ["--root", directory + "/storage", "--runroot", directory + "/run", "--tmpdir", directory + "/tmp",
                          "--network-config-dir", directory + "/net", "--cgroup-manager", "cgroupfs", "--runtime", runtime,
                          "--storage-driver", "vfs", "--events-backend", "file"]
                let tar = directory + "/busybox.tar"
                let packed = try Command.run("/bin/tar", ["-C", fixture.rootfs, "-cf", tar, "."])
                guard packed.status == 0 else { throw FixtureError(message: "tar failed: \(packed.stderr)") }
                let imported = try run(["import", tar, Self.image])
                guard imported.status == 0 else { throw FixtureError(message: "podman import failed: \(imported.stderr)") }
            }

            /// podman's output goes to files, and it is reaped with waitpid (`FileCommand`): conmon,
            /// which outlives a `run -d`, keeps what it inherits open, so neither a pipe nor the
            /// channel through which Foundation's `Process` learns of an exit would ever end.
            func run(_ args: [String], timeout: Double = 60) throws -> Command.Result {
                try FileCommand.run("/usr/bin/env", command + args, timeout: timeout)
            }

            /// env's arguments that run podman with its options, in the test's directory: conmon
            /// writes its "oom" mark into the directory it started in.
            var command: [String] { ["--chdir=" + directory, "/usr/bin/podman"] + global }

            /// The cgroup file `name` of the running container's memory controller (v1) or its
            /// unified cgroup (v2).
            func memoryCgroupFile(of container: String, _ name: String) throws -> String {
                let pid = try run(["inspect", "--format", "{{.State.Pid}}", container]).output
                let cgroup = (Kernel.read("/proc/\(pid)/cgroup") ?? "").split(separator: "\n")
                    .first { $0.contains(":memory:") || $0.hasPrefix("0::") }
                    .map { String($0.split(separator: ":", maxSplits: 2).last ?? "") } ?? ""
                return (Host.isCgroupV2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory") + cgroup + "/" + name
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
            let cidFile = podman.directory + "/cid"
            let ran = try podman.run(["run", "--rm", "--cidfile", cidFile] + Podman.limits
                                     + [Podman.image, "sh", "-c", "echo hi from $(hostname); exit 3"])
            #expect(ran.status == 3, "\(ran.stderr)")
            #expect(ran.stdout.contains("hi from "))
            let left = try podman.run(["ps", "--all", "--quiet"])
            #expect(left.output.isEmpty, "run --rm left \(left.output)")
            // podman's cgroupfs manager puts the container at libpod_parent/libpod-ID; berth-oci's
            // delete removes it.
            let id = try String(contentsOfFile: cidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let cgroup = (Host.isCgroupV2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory") + "/libpod_parent/libpod-" + id
            #expect(!id.isEmpty && eventually { !FileManager.default.fileExists(atPath: cgroup) }, "\(cgroup) was left behind")
        }

        @Test("podman run -d, exec, stop and rm through berth-oci; the memory limit is in the container's cgroup")
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
            let limitFile = try podman.memoryCgroupFile(of: "d1", Host.isCgroupV2 ? "memory.max" : "memory.limit_in_bytes")
            #expect(Kernel.read(limitFile)?.trimmingCharacters(in: .whitespacesAndNewlines) == "\(48 << 20)", "\(limitFile)")
            let exec = try podman.run(["exec", "d1", "sh", "-c", "echo exec in $(hostname)"])
            #expect(exec.status == 0, "\(exec.stderr)")
            #expect(exec.output == "exec in \(id.prefix(12))")
            let stopped = try podman.run(["stop", "--time", "5", "d1"])
            #expect(stopped.status == 0, "\(stopped.stderr)")
            #expect(try podman.run(["inspect", "--format", "{{.State.Status}}", "d1"]).output == "exited")
            #expect(try podman.run(["rm", "d1"]).status == 0)
            #expect(!Kernel.isAlive(pid))
            let cgroupDirectory = (limitFile as NSString).deletingLastPathComponent
            #expect(eventually { !FileManager.default.fileExists(atPath: cgroupDirectory) }, "\(cgroupDirectory) was left behind")
        }

        @Test("podman run -it through berth-oci's console socket: a shell on a terminal, typed into, its exit status")
        func interactiveTerminal() throws {
            let podman = try Podman(fixture)
            defer { podman.removeAll() }
            let session = try PTYSession.run(
                executable: "/usr/bin/env",
                arguments: podman.command + ["run", "-it", "--rm"] + Podman.limits + [Podman.image, "sh"],
                steps: [.waitFor("# "), .type("payload isatty; echo hi-$((6*7))\n"), .waitFor("hi-42"), .type("exit 5\n")])
            #expect(session.status == 5, "\(session.output)")
            // The typed line echoes "hi-$((6*7))"; only the shell's answer says 42.
            #expect(session.output.contains("hi-42"), "\(session.output)")
            // stdin, stdout and stderr are the terminal podman got through the console socket.
            #expect(session.output.contains("1 1 1"), "not on a terminal: \(session.output)")
        }

        @Test("podman run --memory 16m: a payload that allocates past it is killed by the kernel's OOM killer in its cgroup (137)")
        func memoryLimitOOM() throws {
            let podman = try Podman(fixture)
            defer { podman.removeAll() }
            let hog = try podman.run(["run", "--rm", "--memory", "16m", "--memory-swap", "16m"] + Podman.limits
                                     + [Podman.image, "payload", "memhog", "64"])
            #expect(hog.status == 137, "\(hog.stdout) \(hog.stderr)")
            #expect(!hog.stdout.contains("done"), "\(hog.stdout)")
            // The kill was the memory cgroup's: its OOM-kill counter, read while the container's
            // shell outlives the payload. (podman 4.3's OOMKilled stays false here, with runc too:
            // conmon on this host does not report it.)
            let started = try podman.run(["run", "-d", "--name", "hog", "--memory", "16m", "--memory-swap", "16m"] + Podman.limits
                                         + [Podman.image, "sh", "-c", "payload memhog 64; echo hog $?; exec sleep 600"])
            #expect(started.status == 0, "\(started.stderr)")
            let counters = try podman.memoryCgroupFile(of: "hog", Host.isCgroupV2 ? "memory.events" : "memory.oom_control")
            let oomKills = {
                (Kernel.read(counters) ?? "").split(separator: "\n")
                    .first { $0.hasPrefix("oom_kill ") }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            }
            #expect(eventually { oomKills() >= 1 }, "\(counters): \(Kernel.read(counters) ?? "unreadable")")
            #expect(eventually { (try? podman.run(["logs", "hog"]).output) == "hog 137" })
        }

        @Test("podman run --network bridge: podman's CNI plugins make the namespace berth-oci joins; eth0 has its address, reaches the host")
        func bridgeNetwork() throws {
            let podman = try Podman(fixture)
            defer { podman.removeAll() }
            // The default network, "podman", of the test's own: its addresses recorded in the test's
            // directory, not /var/lib/cni; no masquerade, so no firewall rules either.
            try FileManager.default.createDirectory(atPath: podman.directory + "/net", withIntermediateDirectories: true)
            try """
                {"cniVersion": "0.4.0", "name": "podman", "plugins": [{"type": "bridge", "bridge": "cni-podman0",
                 "isGateway": true, "ipMasq": false, "ipam": {"type": "host-local", "routes": [{"dst": "0.0.0.0/0"}],
                 "ranges": [[{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]], "dataDir": "\(podman.directory)/cni"}}]}
                """.write(toFile: podman.directory + "/net/podman.conflist", atomically: true, encoding: .utf8)
            // A fresh network namespace stands in for the host (the bridge and the server live and
            // die there), and a private mount namespace keeps podman's netns mounts and the CNI
            // plugins' result cache (/var/lib/cni: a tmpfs over /var/lib, which podman does not
            // need with its directories given) in it.
            let script = """
                ip link set lo up || exit 90
                mkdir -p /run/netns || exit 91
                mount -t tmpfs netns /run/netns && mount -t tmpfs varlib /var/lib || exit 91
                "$0" serve tcp 7777 > "$1/serve.out" 2>&1 &
                server=$!
                trap 'kill -9 $server' EXIT
                tries=0
                until grep -q listening "$1/serve.out"; do
                    tries=$((tries + 1)); [ $tries -lt 200 ] || exit 92; sleep 0.05
                done
                shift
                "$@"
                """
            let ran = try FileCommand.run("/usr/bin/unshare", ["--net", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script,
                                                              fixture.rootfs + "/bin/payload", podman.directory, "/usr/bin/env"]
                                          + podman.command + ["run", "--rm", "--network", "bridge"] + Podman.ulimits
                                          + [Podman.image, "sh", "-c", "ip -4 -o addr show eth0; payload ask tcp 10.88.0.1 7777"])
            #expect(ran.status == 0, "\(ran.stdout) \(ran.stderr)")
            let address = ran.stdout.firstMatch(of: /inet (10\.88\.[0-9]+\.[0-9]+)\/16/).map { String($0.1) }
            #expect(address != nil, "no 10.88.0.0/16 address on eth0: \(ran.stdout)")
            // The host side saw the container's own address: the bridge podman made carried it.
            #expect(address.map { ran.stdout.contains("peer=\($0)\n") } == true, "\(ran.stdout)")
        }
    }
}
