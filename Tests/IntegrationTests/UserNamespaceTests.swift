import Foundation
import Synchronization
import Testing

extension Containers {
    /// `--userns=auto` and `--userns=host` (issue 12, "User namespaces"), through the CLI: the
    /// mapping seen from inside and from the host, the image's owners through idmapped layers,
    /// what a container writes, the ranges taken from a test's own subuid and subgid files, exec,
    /// commit, and the errors.
    /// On this host the suite always runs, so a broken --userns=auto fails it; in the QEMU VM only
    /// where its test directory takes idmapped mounts (today's does not: mount_setattr, EINVAL).
    @Suite("UserNamespaces", .enabled(if: !Host.inVM || Fixture.userNamespacesUnavailable == nil,
                                      "needs idmapped mounts on the test directory, which the VM's does not support"))
    struct UserNamespaces {
        let fixture = Fixture.shared

        /// The berth range added after "root:100000:65536": the next multiple of 65536.
        static let berthFirst = 196_608

        @Test("--userns=auto on a --rootfs container: root inside is the first id of berth's new range, added to both files")
        func rootfsMapping() throws {
            let root = try UsernsRoot(fixture)
            defer { root.destroy() }
            let r = try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--rootfs", fixture.rootfs,
                                    "--userns=auto", "--", "/bin/sh", "-c",
                                    "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u:%g /bin/busybox"])
            try #require(r.status == 0, "\(r.stderr)")
            let lines = r.output.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
            #expect(lines == ["0", "0", "0 \(Self.berthFirst) 65536", "0 \(Self.berthFirst) 65536", "0:0"])
            for file in [root.subuid, root.subgid] {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                #expect(text == "root:100000:65536\nberth:\(Self.berthFirst):67108864\n", "\(file)")
            }
        }

        @Test("--userns=host (and no flag) keep the host's ids: the identity map, nothing of a user namespace made")
        func hostMode() throws {
            for options in [["--userns=host"], []] {
                let r = try fixture.run(options, ["/bin/cat", "/proc/self/uid_map"])
                #expect(r.status == 0, "\(r.stderr)")
                #expect(r.output.split(separator: " ") == ["0", "0", "4294967295"], "\(options)")
            }
            let root = try UsernsRoot(fixture)
            defer { root.destroy() }
            try root.store.importBusybox("bb:1")
            let r = try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--name", "hm", "bb:1", "touch", "/made"])
            try #require(r.status == 0, "\(r.stderr)")
            let record = try #require(try root.store.inspect("hm"))
            let id = try #require(record["Id"] as? String)
            let host = try #require(record["HostConfig"] as? [String: Any])
            #expect(host["UsernsMode"] as? String == "" && host["BerthUserNamespace"] == nil)
            #expect(try owner(root.store.path + "/containers/\(id)/upper/made") == "0:0")
            #expect(!FileManager.default.fileExists(atPath: root.store.path + "/userns.lock"))
            #expect(!FileManager.default.fileExists(atPath: root.store.path + "/containers/\(id)/links"))
            #expect(try String(contentsOfFile: root.subuid, encoding: .utf8) == "root:100000:65536\n")
        }

        @Test("an image container: image owners inside, host-mapped owners in the upper dir, the init's uid on the host, exec inside")
        func imageContainer() throws {
            let root = try UsernsRoot(fixture)
            defer { root.destroy() }
            let source = try root.store.busyboxCopy(files: ["home/user/file": "x\n"])
            #expect(chown(source + "/home/user", 1000, 1000) == 0 && chown(source + "/home/user/file", 1000, 1000) == 0)
            try #require(try root.berth(["import", source, "bb:1"]).status == 0)

            let started = try root.berth(["run", "-d", "--cgroup-parent", fixture.cgroupParent, "--userns=auto",
                                          "--name", "u1", "bb:1", "sleep", "300"])
            try #require(started.status == 0, "\(started.stderr)")
            let inside = try root.berth(["exec", "u1", "/bin/sh", "-c",
                                         "id -u; stat -c %u:%g / /bin/busybox /home/user/file; echo x > /made; "
                                         + "echo y >> /home/user/file; cat /proc/self/uid_map"])
            try #require(inside.status == 0, "\(inside.stderr)")
            let lines = inside.output.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
            #expect(lines == ["0", "0:0", "0:0", "1000:1000", "0 \(Self.berthFirst) 65536"])

            // The host's view: the init runs as the mapped root, the new file is the mapped
            // root's, the copied-up file the mapped 1000.
            let record = try #require(try root.store.inspect("u1"))
            let state = try #require(record["State"] as? [String: Any])
            let pid = try #require(state["Pid"] as? Int)
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            #expect(status.contains("Uid:\t\(Self.berthFirst)\t\(Self.berthFirst)\t\(Self.berthFirst)\t\(Self.berthFirst)"))
            let id = try #require(record["Id"] as? String)
            let upper = root.store.path + "/containers/\(id)/upper"
            #expect(try owner(upper + "/made") == "\(Self.berthFirst):\(Self.berthFirst)")
            #expect(try owner(upper + "/home/user/file") == "\(Self.berthFirst + 1000):\(Self.berthFirst + 1000)")
            #expect(try owner(upper) == "\(Self.berthFirst):\(Self.berthFirst)")

            let host = try #require(record["HostConfig"] as? [String: Any])
            #expect(host["UsernsMode"] as? String == "auto")
            let mapping = try #require(host["BerthUserNamespace"] as? [String: Any])
            let uids = try #require(mapping["UidMappings"] as? [[String: Any]])
            #expect(uids.first?["HostID"] as? Int == Self.berthFirst && uids.first?["Size"] as? Int == 65536)

            // A start again reads the mapping back from the launch spec: same range, same files.
            #expect(try root.berth(["stop", "-t", "1", "u1"]).status == 0)
            let restarted = try root.berth(["start", "u1"])
            try #require(restarted.status == 0, "\(restarted.stderr)")
            let again = try root.berth(["exec", "u1", "/bin/sh", "-c", "cat /made; stat -c %u /made; cat /proc/self/uid_map"])
            #expect(again.output.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
                        == ["x", "0", "0 \(Self.berthFirst) 65536"], "\(again.stderr)")
        }

        @Test("containers made at once get distinct ranges; a removed container's range is taken again")
        func distinctRanges() throws {
            let root = try UsernsRoot(fixture)
            defer { root.destroy() }
            try root.store.importBusybox("bb:1")
            let names = ["r0", "r1", "r2"]
            let results = Mutex<[String: Command.Result]>([:])
            DispatchQueue.concurrentPerform(iterations: names.count) { i in
                let r = try? root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--userns=auto",
                                         "--name", names[i], "bb:1", "true"])
                if let r { results.withLock { $0[names[i]] = r } }
            }
            for name in names { #expect(results.withLock { $0[name]?.status } == 0, "\(name)") }
            let first = try names.map { try root.hostUID(of: $0) }
            #expect(Set(first).count == 3, "\(first)")
            #expect(Set(first) == Set([0, 1, 2].map { Self.berthFirst + 65536 * $0 }))
            let lowest = try #require(first.min())
            let holder = try #require(names.first { try root.hostUID(of: $0) == lowest })
            #expect(try root.berth(["rm", holder]).status == 0)
            #expect(try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--userns=auto",
                                    "--name", "again", "bb:1", "true"]).status == 0)
            #expect(try root.hostUID(of: "again") == lowest)
        }

        @Test("a commit of a --userns=auto container records container ids, as one from a host container does")
        func commitShiftsOwners() throws {
            let root = try UsernsRoot(fixture)
            defer { root.destroy() }
            try root.store.importBusybox("bb:1")
            // A directory of its own: other tests bind volumes at /data in the shared fixture root.
            let script = "mkdir /committed && echo a > /committed/a && chown 1000:1001 /committed/a && echo b > /committed/b"
            for mode in ["auto", "host"] {
                let r = try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--userns=\(mode)",
                                        "--name", mode, "bb:1", "/bin/sh", "-c", script])
                try #require(r.status == 0, "\(r.stderr)")
                #expect(try root.berth(["diff", mode]).output == "A /committed\nA /committed/a\nA /committed/b")
                #expect(try root.berth(["commit", mode, "\(mode):1"]).status == 0)
            }
            let listings = try ["auto", "host"].map { mode in
                try root.berth(["run", "--rm", "--cgroup-parent", fixture.cgroupParent, "\(mode):1",
                                "stat", "-c", "%n %u:%g %a", "/committed", "/committed/a", "/committed/b"]).output
            }
            #expect(listings[0] == "/committed 0:0 755\n/committed/a 1000:1001 644\n/committed/b 0:0 644")
            #expect(listings[0] == listings[1])
        }

        @Test("a directory a layer made opaque hides the layers below it in a user namespace too")
        func opaqueDirectoryOfALayer() throws {
            let root = try UsernsRoot(fixture)
            defer { root.destroy() }
            try root.store.importBusybox("bb:1")
            let made = try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--name", "op", "bb:1",
                                       "/bin/sh", "-c", "rm -rf /etc && mkdir /etc && echo new > /etc/only"])
            try #require(made.status == 0, "\(made.stderr)")
            #expect(try root.berth(["commit", "op", "op:1"]).status == 0)
            for mode in ["host", "auto"] {
                let r = try root.berth(["run", "--rm", "--cgroup-parent", fixture.cgroupParent, "--userns=\(mode)", "op:1",
                                        "ls", "/etc"])
                #expect(r.output == "only", "\(mode): \(r.stderr)")
            }
        }

        @Test("the isolation and privilege checks hold in both modes", arguments: ["host", "auto"])
        func isolationInBothModes(mode: String) throws {
            let root = try UsernsRoot(fixture)
            defer { root.destroy() }
            let run = { (command: [String]) in
                try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--rootfs", fixture.rootfs,
                                "--userns=\(mode)", "--"] + command)
            }
            let caps = try run(["/bin/sh", "-c", "grep -E '^Cap(Eff|Bnd)' /proc/self/status"])
            #expect(caps.output == "CapEff:\t\(Privileges.defaultMask)\nCapBnd:\t\(Privileges.defaultMask)", "\(caps.stderr)")
            let denied = try run(["/bin/payload", "denied"])
            #expect(denied.output == "unshare=Operation not permitted mount=Operation not permitted "
                        + "keyctl=Operation not permitted nnp=1", "\(denied.stderr)")
            let paths = try run(["/bin/sh", "-c",
                                 "touch /sys/x 2>/dev/null && echo sys-rw || echo sys-ro; "
                                     + "echo 1 > /proc/sys/kernel/hostname 2>/dev/null && echo procsys-rw || echo procsys-ro; "
                                     + "wc -c < /proc/keys; ls /work /opt/swift >/dev/null 2>&1 || echo no-host; "
                                     + "echo x > /dev/null && head -c 4 /dev/zero | wc -c; "
                                     + "echo 1 > /proc/sysrq-trigger 2>/dev/null || echo no-sysrq"])
            #expect(paths.output == "sys-ro\nprocsys-ro\n0\nno-host\n4\nno-sysrq", "\(paths.stderr)")
            let pid1 = try run(["/bin/sh", "-c", "echo $$; hostname | wc -c; ip -o link | wc -l"])
            #expect(pid1.output == "1\n13\n1", "\(pid1.stderr)")
        }

        @Test("--userns=auto with --network host binds the host's /sys read-only")
        func hostNetworkSysfs() throws {
            let root = try UsernsRoot(fixture)
            defer { root.destroy() }
            let r = try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--rootfs", fixture.rootfs,
                                    "--userns=auto", "--network", "host", "--", "/bin/sh", "-c",
                                    "ls /sys/class/net | grep -c lo; touch /sys/x 2>/dev/null || echo sys-ro"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.output == "1\nsys-ro")
        }

        @Test("bad --userns values, a malformed subuid line and a full range are one-sentence errors that leave nothing")
        func errors() throws {
            let root = try UsernsRoot(fixture)
            defer { root.destroy() }
            try root.store.importBusybox("bb:1")
            let bad = try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--userns=keep-id", "bb:1", "true"])
            #expect(bad.status == 125)
            #expect(bad.stderr.contains("unknown --userns value \"keep-id\": use host or auto"), "\(bad.stderr)")

            let device = try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--userns=auto",
                                         "--device", "/dev/null:/dev/extra", "bb:1", "true"])
            #expect(device.status != 0)
            #expect(device.stderr.contains("--device cannot be combined with --userns=auto yet"), "\(device.stderr)")

            // A --rootfs the container's root could not reach from its user namespace.
            let hidden = root.store.path + "-hidden"
            try FileManager.default.createDirectory(atPath: hidden, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
            try FileManager.default.createDirectory(atPath: hidden + "/rootfs", withIntermediateDirectories: false)
            let unreachable = try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--userns=auto",
                                              "--rootfs", hidden + "/rootfs", "--", "true"])
            #expect(unreachable.status == 125)
            #expect(unreachable.stderr.contains("\(hidden) does not let the container's root (host uid 196608) reach "
                                                    + "\(hidden)/rootfs from its user namespace"), "\(unreachable.stderr)")

            try "root:100000:65536\nberth:oops\n".write(toFile: root.subuid, atomically: true, encoding: .utf8)
            let malformed = try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--userns=auto", "bb:1", "true"])
            #expect(malformed.status != 0)
            #expect(malformed.stderr.contains("\(root.subuid) line 2 is not \"name:first:count\""), "\(malformed.stderr)")
            #expect(root.store.containers.isEmpty)

            // Room for exactly one container.
            try "berth:100000:65536\n".write(toFile: root.subuid, atomically: true, encoding: .utf8)
            try "berth:100000:65536\n".write(toFile: root.subgid, atomically: true, encoding: .utf8)
            let one = try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--userns=auto", "bb:1", "true"])
            #expect(one.status == 0, "\(one.stderr)")
            let full = try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--userns=auto", "bb:1", "true"])
            #expect(full.status != 0)
            #expect(full.stderr.contains("no free range of 65536 ids is left in berth's lines of \(root.subuid)"), "\(full.stderr)")
            #expect(root.store.containers.count == 1)
        }

        private func owner(_ path: String) throws -> String {
            var st = stat()
            guard lstat(path, &st) == 0 else { throw FixtureError(message: "lstat \(path): \(errno)") }
            return "\(st.st_uid):\(st.st_gid)"
        }
    }
}

/// A state root whose --userns=auto ranges come from subuid and subgid files of its own
/// (BERTH_SUBUID_FILE, BERTH_SUBGID_FILE), starting as "root:100000:65536".
struct UsernsRoot {
    let store: ImageStoreRoot
    let subuid: String
    let subgid: String

    init(_ fixture: Fixture) throws {
        store = try ImageStoreRoot(fixture)
        subuid = store.path + "-subuid"
        subgid = store.path + "-subgid"
        for file in [subuid, subgid] {
            try "root:100000:65536\n".write(toFile: file, atomically: true, encoding: .utf8)
        }
    }

    func berth(_ args: [String], timeout: Double = 60) throws -> Command.Result {
        try Command.run("/usr/bin/env", ["BERTH_SUBUID_FILE=\(subuid)", "BERTH_SUBGID_FILE=\(subgid)",
                                         store.fixture.berth, "--root", store.path] + Fixture.offline(args), timeout: timeout)
    }

    /// The first host uid of a container's user namespace, from its record.
    func hostUID(of name: String) throws -> Int {
        let r = try berth(["inspect", name])
        let records = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        let host = records?.first?["HostConfig"] as? [String: Any]
        let mapping = host?["BerthUserNamespace"] as? [String: Any]
        guard let uid = (mapping?["UidMappings"] as? [[String: Any]])?.first?["HostID"] as? Int else {
            throw FixtureError(message: "no user namespace in the record of \(name): \(r.stdout) \(r.stderr)")
        }
        return uid
    }

    func destroy() {
        // rm -f of everything, the state root and its "-" siblings (the id files among them).
        store.destroy()
    }
}
