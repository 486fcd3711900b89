import Foundation
import Testing

extension Containers {
    /// Each isolation property, checked from inside the container.
    @Suite("Isolation")
    struct Isolation {
        let fixture = Fixture.shared

        @Test("the command is pid 1 and ps sees only the container's processes")
        func pidNamespace() throws {
            let r = try fixture.run([], ["/bin/sh", "-c", "echo $$; ps -o pid | tail -n +2 | wc -l"])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.output.split(separator: "\n")
            #expect(lines.first == "1")
            // sh, ps, tail, wc: nothing of the host
            #expect(Int(lines.last ?? "") ?? 99 <= 4)
        }

        @Test("the hostname is the short id by default, or --hostname")
        func hostname() throws {
            let r = try fixture.run([], ["/bin/hostname"])
            #expect(r.status == 0)
            #expect(r.output.count == 12 && r.output.allSatisfy(\.isHexDigit))
            let named = try fixture.run(["--hostname", "box"], ["/bin/sh", "-c", "hostname; echo $HOSTNAME"])
            #expect(named.output == "box\nbox")
        }

        @Test("pivot_root: the old root is gone and no mount point is a host path")
        func pivotRoot() throws {
            let r = try fixture.run([], ["/bin/cat", "/proc/self/mountinfo"])
            #expect(r.status == 0)
            let mountPoints = r.output.split(separator: "\n").map { $0.split(separator: " ")[4] }
            #expect(mountPoints.first == "/")
            let allowed = ["/", "/proc", "/dev", "/sys"]
            for point in mountPoints {
                #expect(allowed.contains { point == $0 || point.hasPrefix($0 == "/" ? "/dev/" : $0 + "/") },
                        "unexpected mount point \(point)")
            }
            #expect(!mountPoints.contains { $0.hasPrefix(fixture.workspace.path) })
            // Nothing of the host's tree is reachable: its /work is not ours.
            let probe = try fixture.run([], ["/bin/sh", "-c", "ls /work /opt/swift 2>&1; echo done"])
            #expect(probe.output.hasSuffix("done"))
            #expect(probe.output.contains("No such file"))
        }

        @Test("/dev holds only the standard nodes, a private devpts and the fd links")
        func dev() throws {
            let r = try fixture.run([], ["/bin/sh", "-c", "ls /dev | tr '\\n' ' '; ls -l /dev/null | cut -c1"])
            #expect(r.status == 0)
            let names = Set(r.output.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
            for expected in ["null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm", "mqueue",
                             "fd", "stdin", "stdout", "stderr"] {
                #expect(names.contains(expected), "/dev/\(expected) missing")
            }
            #expect(!names.contains("vda") && !names.contains("kmsg") && !names.contains("mem"))
            #expect(r.output.hasSuffix("c"))
            let write = try fixture.run([], ["/bin/sh", "-c", "echo x > /dev/null && head -c 4 /dev/zero | wc -c"])
            #expect(write.output == "4")
        }

        @Test("/sys and /proc/sys are read-only, /proc/keys is masked")
        func readOnlyKernelInterfaces() throws {
            let r = try fixture.run([], ["/bin/sh", "-c",
                "touch /sys/x 2>/dev/null && echo sys-rw || echo sys-ro; " +
                "echo 1 > /proc/sys/kernel/hostname 2>/dev/null && echo procsys-rw || echo procsys-ro; " +
                "wc -c < /proc/keys"])
            #expect(r.output == "sys-ro\nprocsys-ro\n0")
        }

        @Test("--read-only makes the root read-only; without it the root is writable")
        func readOnlyRoot() throws {
            let ro = try fixture.run(["--read-only"], ["/bin/sh", "-c", "touch /ro-test 2>&1; echo rc=$?"])
            #expect(ro.output.contains("Read-only file system"))
            #expect(ro.output.hasSuffix("rc=1"))
            let rw = try fixture.run([], ["/bin/sh", "-c", "touch /tmp/rw-test && rm /tmp/rw-test && echo ok"])
            #expect(rw.output == "ok")
        }

        @Test("a new network namespace has only lo, up; --network host shares the host's")
        func network() throws {
            let none = try fixture.run([], ["/bin/sh", "-c", "ls /sys/class/net; ip link show lo"])
            #expect(none.status == 0, "\(none.stderr)")
            let lines = none.output.split(separator: "\n")
            #expect(lines.first == "lo")
            #expect(none.output.contains("UP"))
            // The same namespace as the caller's, compared by identity: the interfaces it holds
            // depend on where the suite runs (a fresh namespace with only lo, under .ci/test).
            let host = try fixture.run(["--network", "host"], ["/bin/readlink", "/proc/self/ns/net"])
            let ours = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
            #expect(host.output == ours)
            let isolated = try fixture.run([], ["/bin/readlink", "/proc/self/ns/net"])
            #expect(isolated.output.hasPrefix("net:[") && isolated.output != ours)
        }

        @Test("only stdin, stdout and stderr are open in the container")
        func noLeakedDescriptors() throws {
            let r = try fixture.run([], ["/bin/payload", "fds"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.output == "0 1 2")
        }

        @Test("-u sets uid and gid with supplementary groups cleared; -w is created and entered")
        func userAndWorkdir() throws {
            let r = try fixture.run(["-u", "nobody", "-w", "/work/dir"], ["/bin/sh", "-c", "id; pwd; echo $HOME"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.output == "uid=65534(nobody) gid=65534(nobody)\n/work/dir\n/nonexistent")
            let numeric = try fixture.run(["-u", "1234:5678"], ["/bin/sh", "-c", "id -u; id -g; id -G"])
            #expect(numeric.output == "1234\n5678\n5678")
            let unknown = try fixture.run(["-u", "nosuchuser"], ["/bin/true"])
            #expect(unknown.status == 125)
            #expect(unknown.stderr.contains("nosuchuser"))
        }

        @Test("-e sets variables over the defaults; PATH has a sane default")
        func environment() throws {
            let r = try fixture.run(["-e", "FOO=bar", "-e", "HOME=/h"], ["/bin/sh", "-c", "echo $FOO $HOME; echo $PATH"])
            #expect(r.output == "bar /h\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        }

        @Test("-v binds a host directory read-write or read-only")
        func volumes() throws {
            let dir = fixture.workspace.appendingPathComponent("vol-\(UUID().uuidString.prefix(6))").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let rw = try fixture.run(["-v", "\(dir):/data"], ["/bin/sh", "-c", "echo hi > /data/f && cat /data/f"])
            #expect(rw.output == "hi")
            #expect((try? String(contentsOfFile: dir + "/f", encoding: .utf8)) == "hi\n")
            let ro = try fixture.run(["-v", "\(dir):/data:ro"], ["/bin/sh", "-c", "echo x > /data/g; cat /data/f"])
            #expect(ro.stderr.contains("Read-only file system"))
            #expect(ro.output == "hi")
            #expect(!FileManager.default.fileExists(atPath: dir + "/g"))
        }

        @Test("nothing of a container stays mounted on the host")
        func noHostMounts() throws {
            // Only what names this run's root or state: other suites run at once and mount and
            // unmount their own, which a count of every mount would see.
            let state = try fixture.makeStateRoot()
            func mounts() throws -> [Substring] {
                try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8).split(separator: "\n")
                    .filter { $0.contains(fixture.rootfs) || $0.contains(state) }
            }
            let before = try mounts()
            _ = try fixture.run([], ["/bin/true"], root: state)
            let after = try mounts()
            #expect(before.isEmpty && after.isEmpty, "\(after)")
        }
    }
}
