import Foundation
import Testing

/// A host block device to try the device lists with: the first in /proc/partitions, or a loop
/// device, that the test process itself may open (a sandbox may refuse the root disk even to
/// root). The tests only open it (for writing with ">>", which writes nothing).
enum HostDisk {
    static let first: (path: String, major: String, minor: String)? = {
        let text = (try? String(contentsOfFile: "/proc/partitions", encoding: .utf8)) ?? ""
        let partitions = text.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").last.map { "/dev/" + $0 } }
        for path in partitions + (0..<8).map({ "/dev/loop\($0)" }) {
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFBLK else { continue }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            close(fd)
            let device = UInt64(st.st_rdev)
            let major = ((device >> 32) & 0xffff_f000) | ((device >> 8) & 0xfff)
            let minor = ((device >> 12) & 0xffff_ff00) | (device & 0xff)
            return (path, String(major), String(minor))
        }
        return nil
    }()
}

extension Containers {
    /// The device list (v1 devices cgroup here, the eBPF program in the VM), seen from inside.
    @Suite("Devices", .enabled(if: HostDisk.first != nil, "needs a block device the host lets it open"))
    struct Devices {
        let fixture = Fixture.shared

        /// A script that reports whether each path opens for reading ("PATH ok" or "PATH refused").
        /// (`true`, not `:`: a failed redirection of a special builtin ends the shell.)
        static func tryOpening(_ paths: [String]) -> String {
            paths.map { "if true < \($0) 2>/dev/null; then echo \($0) ok; else echo \($0) refused; fi" }.joined(separator: "; ")
        }

        @Test("a mknod of a host disk succeeds but opening it is refused; the default devices open")
        func defaultList() throws {
            let disk = try #require(HostDisk.first)
            let script = "mknod /dev/hostdisk b \(disk.major) \(disk.minor) && echo made; "
                + "head -c 1 /dev/hostdisk 2>&1 >/dev/null; "
                + Self.tryOpening(["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"])
                + "; head -c 4 /dev/urandom | wc -c"
            let r = try fixture.run([], ["/bin/sh", "-c", script])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.output == """
                made
                head: /dev/hostdisk: Operation not permitted
                /dev/null ok
                /dev/zero ok
                /dev/full ok
                /dev/random ok
                /dev/urandom ok
                4
                """)
        }

        @Test("/dev/tty, /dev/console, /dev/ptmx and the terminal itself open in a container with a terminal")
        func terminal() throws {
            let r = try PTYSession.run(fixture: fixture, options: ["-t"], command: [
                "/bin/sh", "-c", Self.tryOpening(["/dev/tty", "/dev/console", "/dev/ptmx", "$(tty)"]) + "; echo done",
            ])
            #expect(r.output.contains("/dev/tty ok") && r.output.contains("/dev/console ok"), "\(r.output)")
            #expect(r.output.contains("/dev/ptmx ok") && r.output.contains("done"), "\(r.output)")
            #expect(!r.output.contains("refused"), "\(r.output)")
        }

        @Test("--device gives a host disk; :r opens it for reading and not for writing")
        func deviceFlag() throws {
            let disk = try #require(HostDisk.first)
            let rwm = try fixture.run(["--device", disk.path + ":/dev/hostdisk"],
                                      ["/bin/sh", "-c", "ls -l /dev/hostdisk | cut -c1; " + Self.tryOpening(["/dev/hostdisk"])
                                          + "; if true >> /dev/hostdisk; then echo write ok; fi"])
            #expect(rwm.output == "b\n/dev/hostdisk ok\nwrite ok", "\(rwm.stderr)")
            let readOnly = try fixture.run(["--device", disk.path + ":/dev/hostdisk:r"],
                                           ["/bin/sh", "-c", Self.tryOpening(["/dev/hostdisk"])
                                               + "; true 2>&1 >> /dev/hostdisk"])
            #expect(readOnly.output.hasPrefix("/dev/hostdisk ok\n"), "\(readOnly.stderr)")
            #expect(readOnly.output.hasSuffix("Operation not permitted"), "\(readOnly.output)")
        }

        @Test("--privileged opens every device")
        func privileged() throws {
            let disk = try #require(HostDisk.first)
            let r = try fixture.run(["--privileged"], ["/bin/sh", "-c", "mknod /dev/hostdisk b \(disk.major) \(disk.minor); "
                                        + Self.tryOpening(["/dev/hostdisk"])])
            #expect(r.output == "/dev/hostdisk ok", "\(r.stderr)")
        }

        @Test("the container's v1 devices cgroup holds the default list and its --device rule",
              .enabled(if: Host.isCgroupV1, "needs cgroup v1 (this host)"))
        func v1List() throws {
            let disk = try #require(HostDisk.first)
            // The container's devices cgroup, read from inside through a bind of the hierarchy: its
            // directory is the container's id, which starts with the hostname.
            let r = try fixture.run(["--device", disk.path + ":/dev/hostdisk:r", "-v", "/sys/fs/cgroup/devices:/host-devices:ro"],
                                    ["/bin/sh", "-c", "cat /host-devices/\(fixture.cgroupParent)/$(hostname)*/devices.list"])
            #expect(r.output.split(separator: "\n").map(String.init) == [
                "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
                "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "b \(disk.major):\(disk.minor) r",
            ], "\(r.stderr)")
        }

        @Test("a stopped container started again keeps its --device and its list; exec runs under the list")
        func startAndExecKeepTheList() throws {
            let disk = try #require(HostDisk.first)
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let script = Self.tryOpening(["/dev/hostdisk"]) + "; true 2>&1 >> /dev/hostdisk; echo end"
            _ = try root.runDetached(["--name", "given", "--device", disk.path + ":/dev/hostdisk:r"], ["sh", "-c", script])
            #expect(try root.waitUntil(seconds: 10) { try root.status("given")?.hasPrefix("Exited (0)") == true })
            let started = try root.berth(["start", "given"])
            #expect(started.status == 0, "\(started.stderr)")
            #expect(try root.waitUntil(seconds: 10) { try root.status("given")?.hasPrefix("Exited (0)") == true })
            let logs = try root.berth(["logs", "given"])
            let once = "/dev/hostdisk ok\nsh: can't create /dev/hostdisk: Operation not permitted\nend\n"
            #expect(logs.stdout == once + once, "\(logs.stdout)")

            _ = try root.runDetached(["--name", "plain"], ["sh", "-c", "while :; do sleep 0.1; done"])
            let exec = try root.berth(["exec", "plain", "sh", "-c", "mknod /dev/hostdisk b \(disk.major) \(disk.minor) && "
                                        + Self.tryOpening(["/dev/hostdisk", "/dev/null"])])
            #expect(exec.output == "/dev/hostdisk refused\n/dev/null ok", "\(exec.stderr)")
            #expect(try root.berth(["rm", "-f", "plain"]).status == 0)
        }

        @Test("a bad --device is one sentence and leaves no container",
              arguments: ["/dev/berth-no-such-device", "/etc/hostname", "/dev/null:rwx", "/dev/null:/dev/a:/dev/b"])
        func badDevice(argument: String) throws {
            let root = try fixture.makeStateRoot()
            let r = try fixture.run(["--device", argument], ["/bin/true"], root: root)
            #expect(r.status != 0)
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines.first?.contains("--device \"\(argument)\"") == true, "\(r.stderr)")
            let containers = Kernel.containerEntries(root + "/containers")
            #expect(containers.isEmpty, "\(containers)")
        }
    }
}
