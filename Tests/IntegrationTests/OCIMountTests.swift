import Foundation
import Testing

extension Containers {
    /// berth-oci's mounts of every type (issue 18): filesystems other than bind and tmpfs at
    /// places of their own, a filesystem's own options, a bind's flags, bind against rbind, the
    /// recursive attributes ("rro") and runc's "tmpcopyup".
    /// Every mount lies below a tmpfs at /tmp, so nothing is created in the shared busybox root.
    @Suite("OCIMounts")
    struct OCIMounts {
        let fixture = Fixture.shared

        /// The spec's mounts with `extra` after them, in place of those an earlier spec of the
        /// test added below /tmp (the fixture keeps its edits).
        static func adding(_ extra: [[String: Any]]) -> (inout [String: Any]) -> Void {
            { spec in
                let kept = (spec["mounts"] as? [[String: Any]] ?? []).filter { ($0["destination"] as? String)?.hasPrefix("/tmp") != true }
                spec["mounts"] = kept + extra
            }
        }

        static var scratch: [String: Any] { ["destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                                             "options": ["nosuid", "nodev", "size=1m", "mode=0700"]] }

        /// /proc/mounts' lines for the mount points below /tmp, each as "POINT TYPE OPTIONS".
        static func mounts(in output: String) -> [String: (type: String, options: Set<String>)] {
            var found: [String: (type: String, options: Set<String>)] = [:]
            for line in output.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count >= 4, fields[1].hasPrefix("/tmp") else { continue }
                found[String(fields[1])] = (String(fields[2]), Set(fields[3].split(separator: ",").map(String.init)))
            }
            return found
        }

        @Test("proc, sysfs and mqueue at places of their own, and a tmpfs with size= and mode=")
        func filesystemsOfEveryType() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            try world.writeSpec(id: "fs", args: ["sh", "-c", "cat /proc/mounts; stat -c 'mode %a' /tmp; "
                                                 + "cat /tmp/proc/1/comm; ls /tmp/sys/kernel/mm >/dev/null && echo sysfs-read; "
                                                 + "touch /tmp/sys/x 2>/dev/null || echo sysfs-readonly"],
                                edit: Self.adding([
                                    Self.scratch,
                                    ["destination": "/tmp/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec"]],
                                    ["destination": "/tmp/sys", "type": "sysfs", "source": "sysfs", "options": ["ro", "nodev"]],
                                    ["destination": "/tmp/mq", "type": "mqueue", "source": "mqueue", "options": ["relatime"]],
                                ]))
            let ran = try world.create("fs", command: "run")
            let output = world.output(of: "fs")
            #expect(ran.status == 0, "\(output)")
            let mounts = Self.mounts(in: output)
            #expect(mounts["/tmp"]?.type == "tmpfs")
            #expect(mounts["/tmp"]?.options.isSuperset(of: ["nosuid", "nodev", "size=1024k", "mode=700"]) == true,
                    "\(mounts["/tmp"]?.options ?? [])")
            #expect(output.contains("mode 700"))
            #expect(mounts["/tmp/proc"]?.type == "proc")
            #expect(mounts["/tmp/proc"]?.options.isSuperset(of: ["rw", "nosuid", "noexec"]) == true)
            // pid 1 of the container's own pid namespace: the procfs is the container's.
            #expect(output.contains("\nsh\n"), "\(output)")
            #expect(mounts["/tmp/sys"]?.type == "sysfs")
            #expect(mounts["/tmp/sys"]?.options.isSuperset(of: ["ro", "nodev"]) == true)
            #expect(output.contains("sysfs-read") && output.contains("sysfs-readonly"))
            #expect(mounts["/tmp/mq"]?.type == "mqueue")
            #expect(mounts["/tmp/mq"]?.options.contains("relatime") == true)
        }

        @Test("a bind with nosuid and noexec: its programs do not run, and the flags are on the mount")
        func bindFlags() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            let tools = world.directory + "/tools"
            try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
            try "#!/bin/sh\necho the script ran\n".write(toFile: tools + "/hello", atomically: true, encoding: .utf8)
            chmod(tools + "/hello", 0o755)
            let script = "grep ' /tmp/' /proc/mounts; /tmp/tools/hello; echo status $?; /tmp/exec/hello"
            try world.writeSpec(id: "nx", args: ["sh", "-c", script],
                                edit: Self.adding([
                                    Self.scratch,
                                    ["destination": "/tmp/tools", "type": "bind", "source": tools,
                                     "options": ["rbind", "nosuid", "noexec", "ro"]],
                                    ["destination": "/tmp/exec", "type": "bind", "source": tools, "options": ["rbind"]],
                                ]))
            let ran = try world.create("nx", command: "run")
            let output = world.output(of: "nx")
            #expect(ran.status == 0, "\(output)")
            let mounts = Self.mounts(in: output)
            #expect(mounts["/tmp/tools"]?.options.isSuperset(of: ["ro", "nosuid", "noexec"]) == true,
                    "\(mounts["/tmp/tools"]?.options ?? [])")
            #expect(mounts["/tmp/exec"]?.options.contains("noexec") == false)
            #expect(output.contains("Permission denied"), "\(output)")
            #expect(!output.contains("status 0"))
            // The same file through a bind without noexec runs: the flag made the difference.
            #expect(output.components(separatedBy: "the script ran").count == 2, "\(output)")
        }

        /// `berth-oci run ID` of the bundle with a tmpfs at `tree`/sub first, holding "sub/below".
        /// The submount lives in a mount namespace of this run's own, so the host's mount table
        /// never holds it and it goes away with the namespace. The container's output is in
        /// `output(of:)`.
        static func runWithSubmount(_ world: OCIBundleFixture, id: String, tree: String) throws -> Command.Result {
            let script = "mount -t tmpfs below \"$0/sub\" && echo below > \"$0/sub/below\" && "
                + "exec \"$1\" --root \"$2\" run --bundle \"$3\" \"$4\" < /dev/null > \"$5\" 2>&1"
            return try Command.run("/usr/bin/unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script,
                                                       tree, world.berthOCI, world.root, world.bundle, id, world.directory + "/\(id).out"])
        }

        @Test("rbind takes the mounts below the source along; bind takes the source's own mount only")
        func bindAgainstRbind() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            let tree = world.directory + "/tree"
            try FileManager.default.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
            try "top\n".write(toFile: tree + "/top", atomically: true, encoding: .utf8)
            try world.writeSpec(id: "rb", args: ["sh", "-c", "cat /tmp/r/top /tmp/r/sub/below; cat /tmp/b/top; "
                                                 + "ls /tmp/b/sub | wc -l | sed 's/^/entries /'"],
                                edit: Self.adding([
                                    Self.scratch,
                                    ["destination": "/tmp/r", "type": "bind", "source": tree, "options": ["rbind"]],
                                    ["destination": "/tmp/b", "type": "bind", "source": tree, "options": ["bind"]],
                                ]))
            let ran = try Self.runWithSubmount(world, id: "rb", tree: tree)
            let output = world.output(of: "rb")
            #expect(ran.status == 0, "\(ran.stderr) \(output)")
            // After berth-oci's own warnings (the default spec's ambient capabilities), the container's lines.
            #expect(output.split(separator: "\n").suffix(4) == ["top", "below", "top", "entries 0"], "\(output)")
        }

        /// A directory of the test's holding `file`, owned by the host's root.
        static func directoryWithARootOwnedFile(in world: OCIBundleFixture) throws -> String {
            let shared = world.directory + "/shared"
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
            try "root's\n".write(toFile: shared + "/file", atomically: true, encoding: .utf8)
            #expect(chown(shared + "/file", 0, 0) == 0)
            return shared
        }

        /// /tmp, and `shared` bound idmapped (with `mapping`'s keys) at /tmp/mapped and plainly at /tmp/plain.
        static func mappedAndPlain(_ shared: String, _ mapping: [String: Any]) -> [[String: Any]] {
            [scratch,
             ["destination": "/tmp/mapped", "type": "bind", "source": shared, "options": ["rbind", "idmap"]]
                .merging(mapping) { $1 },
             ["destination": "/tmp/plain", "type": "bind", "source": shared, "options": ["rbind"]]]
        }

        static let showOwners = "stat -c 'mapped %u:%g' /tmp/mapped/file; stat -c 'plain %u:%g' /tmp/plain/file; "

        @Test("an idmapped bind shows a root-owned file as the mapping's owner; the same directory bound plainly does not")
        func idmappedBind() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            let shared = try Self.directoryWithARootOwnedFile(in: world)
            let mapping: [[String: Any]] = [["containerID": 0, "hostID": 1000, "size": 1]]
            try world.writeSpec(id: "idm", args: ["sh", "-c", Self.showOwners + "touch /tmp/mapped/new || echo create-refused"],
                                edit: Self.adding(Self.mappedAndPlain(shared, ["uidMappings": mapping, "gidMappings": mapping])))
            let ran = try world.create("idm", command: "run")
            let output = world.output(of: "idm")
            #expect(ran.status == 0, "\(output)")
            #expect(output.contains("mapped 1000:1000"), "\(output)")
            #expect(output.contains("plain 0:0"))
            // The container's root (uid 0) is outside the mount's mapping: it may not create files
            // there, whose owner the filesystem could not record (EOVERFLOW).
            #expect(output.contains("create-refused"), "\(output)")
            var status = stat()
            #expect(stat(shared + "/file", &status) == 0 && status.st_uid == 0, "the mount changed the file on disk")
            #expect(!FileManager.default.fileExists(atPath: shared + "/new"))
        }

        @Test("idmap without mappings of its own shows the source through the container's user namespace")
        func idmappedThroughTheContainersUserNamespace() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            let shared = try Self.directoryWithARootOwnedFile(in: world)
            // The state root's directories must let the container's root (an unprivileged host uid) pass.
            chmod(world.directory, 0o755)
            let range: [[String: Any]] = [["containerID": 0, "hostID": 200_000, "size": 65536]]
            try world.writeSpec(id: "uns", args: ["sh", "-c", Self.showOwners + "cat /proc/self/uid_map"]) { spec in
                Self.adding(Self.mappedAndPlain(shared, [:]))(&spec)
                var linux = spec["linux"] as? [String: Any] ?? [:]
                linux["namespaces"] = (linux["namespaces"] as? [[String: Any]] ?? []) + [["type": "user"]]
                linux["uidMappings"] = range
                linux["gidMappings"] = range
                spec["linux"] = linux
            }
            let ran = try world.create("uns", command: "run")
            let output = world.output(of: "uns")
            #expect(ran.status == 0, "\(output)")
            // Host root is the container's root through the mount; unmapped (nobody) without it.
            #expect(output.contains("mapped 0:0"), "\(output)")
            #expect(output.contains("plain 65534:65534"), "\(output)")
            #expect(output.contains("200000"), "not in its own user namespace: \(output)")
        }

        @Test("rro: a recursive read-only bind of a tree is read-only in its submount too, where ro leaves the submount writable")
        func recursiveReadOnlyBind() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            let tree = world.directory + "/tree"
            try FileManager.default.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
            let script = "touch /tmp/r/top 2>/dev/null || echo top-readonly; touch /tmp/r/sub/x 2>/dev/null || echo sub-readonly; "
                + "touch /tmp/p/sub/y && echo plain-sub-writable; grep ' /tmp/r/sub ' /proc/mounts"
            try world.writeSpec(id: "rro", args: ["sh", "-c", script],
                                edit: Self.adding([
                                    Self.scratch,
                                    ["destination": "/tmp/r", "type": "bind", "source": tree, "options": ["rbind", "rro"]],
                                    ["destination": "/tmp/p", "type": "bind", "source": tree, "options": ["rbind", "ro"]],
                                ]))
            let ran = try Self.runWithSubmount(world, id: "rro", tree: tree)
            let output = world.output(of: "rro")
            #expect(ran.status == 0, "\(ran.stderr) \(output)")
            #expect(output.contains("top-readonly") && output.contains("sub-readonly"), "\(output)")
            #expect(output.contains("plain-sub-writable"), "\(output)")
            let submount = Self.mounts(in: output)["/tmp/r/sub"]
            #expect(submount?.type == "tmpfs" && submount?.options.contains("ro") == true, "\(output)")
        }

        @Test("tmpcopyup: a tmpfs starts with a copy of what it covers, owners, modes, links and nodes kept; writes stay in the tmpfs")
        func tmpfsCopyUp() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            let source = world.directory + "/source"
            try FileManager.default.createDirectory(atPath: source + "/dir", withIntermediateDirectories: true)
            try "kept\n".write(toFile: source + "/file", atomically: true, encoding: .utf8)
            try "inner\n".write(toFile: source + "/dir/inner", atomically: true, encoding: .utf8)
            #expect(chown(source + "/file", 1234, 5678) == 0 && chmod(source + "/file", 0o640) == 0)
            #expect(chmod(source + "/dir", 0o750) == 0)
            try FileManager.default.createSymbolicLink(atPath: source + "/link", withDestinationPath: "file")
            #expect(mkfifo(source + "/fifo", 0o600) == 0)
            let script = "stat -c '%n %u:%g %A' /tmp/src/file /tmp/src/dir /tmp/src/link /tmp/src/fifo; readlink /tmp/src/link; "
                + "cat /tmp/src/dir/inner; grep ' /tmp/src ' /proc/mounts; echo new > /tmp/src/new && echo wrote"
            // The tmpfs covers a bind of the test's directory: the copy is of the container's tree
            // at that place, as runc makes it.
            try world.writeSpec(id: "cu", args: ["sh", "-c", script],
                                edit: Self.adding([
                                    Self.scratch,
                                    ["destination": "/tmp/src", "type": "bind", "source": source, "options": ["rbind"]],
                                    ["destination": "/tmp/src", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "size=1m"]],
                                ]))
            let ran = try world.create("cu", command: "run")
            let output = world.output(of: "cu")
            #expect(ran.status == 0, "\(output)")
            #expect(output.contains("/tmp/src/file 1234:5678 -rw-r-----"), "\(output)")
            #expect(output.contains("/tmp/src/dir 0:0 drwxr-x---"), "\(output)")
            #expect(output.contains("/tmp/src/link 0:0 lrwxrwxrwx"), "\(output)")
            #expect(output.contains("/tmp/src/fifo 0:0 prw-------"), "\(output)")
            #expect(output.contains("\nfile\ninner\n"), "\(output)")
            #expect(Self.mounts(in: output)["/tmp/src"]?.type == "tmpfs", "\(output)")
            #expect(output.contains("wrote"))
            #expect(!FileManager.default.fileExists(atPath: source + "/new"), "the write went through the tmpfs to the bind below")
        }

        @Test("options berth does not carry out are refused by name: a filesystem's option on a bind")
        func refusedOptions() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            try world.writeSpec(id: "sz", args: ["true"], edit: Self.adding([
                ["destination": "/tmp", "type": "bind", "source": world.directory, "options": ["rbind", "size=1m"]],
            ]))
            let size = try world.create("sz")
            #expect(size.status == 1 && size.stderr.contains("the bind at /tmp has the option size=1m"), "\(size.stderr)")
            #expect(try world.state("sz") == nil)
        }
    }
}
