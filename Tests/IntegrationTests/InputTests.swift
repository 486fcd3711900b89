import Foundation
import Testing

extension Containers {
    /// Input that berth must refuse, or pass on exactly, through the CLI (issue 11, "Should fix"):
    /// a state root overlayfs cannot mount from, exec into a working directory that does not
    /// exist, device nodes in an imported directory, an archive that lists no image, the cgroup
    /// parent levels a container leaves behind.
    @Suite("Inputs")
    struct Inputs {
        let fixture = Fixture.shared

        @Test("a state root with ',', ':' or a backslash: every command fails with one line and creates nothing",
              arguments: [",", ":", "\\"])
        func unsafeStateRoot(_ character: String) throws {
            if let error = fixture.setupError { throw FixtureError(message: error) }
            let root = fixture.workspace.path + "/state\(character)\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: root) }
            let commands: [(args: [String], status: Int32)] = [
                (["import", fixture.rootfs, "busybox:1.35"], 1),
                (["images"], 1),
                (["ps", "-a"], 1),
                (["run", "--cgroup-parent", fixture.cgroupParent, "busybox:1.35", "true"], 125),
                (["run", "--cgroup-parent", fixture.cgroupParent, "--rootfs", fixture.rootfs, "true"], 125),
            ]
            for (args, status) in commands {
                let r = try fixture.berth(args, root: root)
                expectFailure(r, status: status, mentioning: [root, "'\(character)'", "choose a state directory"], "\(args)")
                #expect(!FileManager.default.fileExists(atPath: root), "\(args) created \(root)")
            }
        }

        @Test("exec -w into a directory that does not exist fails with one line and creates nothing; run -w creates it")
        func execIntoAMissingWorkdir() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "box"], ["sleep", "1000"])
            let missing = try root.berth(["exec", "-w", "/nonexistent/deeper", "box", "true"])
            expectFailure(missing, status: 1, mentioning: ["/nonexistent/deeper", "no such file or directory"])
            let looked = try root.berth(["exec", "box", "sh", "-c", "test -e /nonexistent && echo made || echo absent"])
            #expect(looked.status == 0 && looked.output == "absent", "\(looked.stdout) \(looked.stderr)")
            let existing = try root.berth(["exec", "-w", "/tmp", "box", "pwd"])
            #expect(existing.status == 0 && existing.output == "/tmp", "\(existing.stdout) \(existing.stderr)")

            // run keeps Docker's behaviour: its working directory is made when missing.
            let run = try root.berth(["run", "--rm", "--cgroup-parent", fixture.cgroupParent, "-w", "/made/here",
                                      LifecycleRoot.image, "pwd"])
            #expect(run.status == 0 && run.output == "/made/here", "\(run.stdout) \(run.stderr)")
        }

        @Test("a directory import with a device node is refused unless --allow-devices, naming the file")
        func devicesInADirectory() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let source = try store.busyboxCopy()
            let made = try Command.run("/bin/mknod", [source + "/berth-null", "c", "1", "3"])
            try #require(made.status == 0, "mknod: \(made.stderr)")
            try store.importBusybox("busybox:1.35")
            let before = store.listing()
            let refused = try store.berth(["import", source, "dev:1"])
            expectFailure(refused, status: 1, mentioning: ["berth-null", "1:3", "--allow-devices"])
            #expect(try store.tags() == ["busybox:1.35"])
            #expect(store.listing() == before)
            #expect(store.temporaries.isEmpty)

            let allowed = try store.berth(["import", "--allow-devices", source, "dev:1"])
            #expect(allowed.status == 0, "\(allowed.stderr)")
            let ran = try store.run(["--rm", "dev:1", "ls", "-l", "/berth-null"])
            #expect(ran.status == 0 && ran.output.hasPrefix("c"), "\(ran.stdout) \(ran.stderr)")
        }

        @Test("load of an archive that lists no image fails with one line naming it; nothing is stored",
              arguments: ["docker", "oci"])
        func loadOfAnEmptyArchive(_ kind: String) throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")
            let dir = store.path + "-archive"
            let tar = store.path + "-empty.tar"
            let script = kind == "docker"
                ? "set -e; mkdir \"$1\"; printf '[]' > \"$1/manifest.json\"; tar -C \"$1\" -cf \"$2\" manifest.json"
                : """
                  set -e; mkdir -p "$1/blobs/sha256"; printf '{"imageLayoutVersion":"1.0.0"}' > "$1/oci-layout"
                  printf '{"schemaVersion":2,"manifests":[]}' > "$1/index.json"; tar -C "$1" -cf "$2" oci-layout index.json blobs
                  """
            let made = try Command.run("/bin/sh", ["-c", script, "sh", dir, tar])
            try #require(made.status == 0, "\(made.stderr)")
            let before = store.listing()
            for args in [["load", "-i", tar], ["load", "-q", "-i", tar]] {
                let r = try store.berth(args)
                expectFailure(r, status: 1, mentioning: [tar, "no images"], "\(args)")
                #expect(r.stdout.isEmpty)
            }
            #expect(store.listing() == before)
            #expect(try store.tags() == ["busybox:1.35"])
        }

        /// The hex of `printf %s "$1"` and of `printf %s "$V"` inside the container, one line each.
        static let printBytes = ["sh", "-c", "printf %s \"$1\" | od -An -tx1; printf %s \"$V\" | od -An -tx1", "sh"]

        /// Runs berth through /bin/sh, so arguments can hold bytes that are not UTF-8:
        /// `$A` is a\xffb and `$V` is V=x\xfey\xff, set by the script before it runs berth.
        private func berthWithBytes(_ root: String, _ args: String) throws -> Command.Result {
            let script = "A=$(printf 'a\\377b'); V=$(printf 'V=x\\376y\\377'); exec \"$0\" --root \"$1\" \(args)"
            return try Command.run("/bin/sh", ["-c", script, fixture.berth, root])
        }

        /// od's lines as plain hex.
        private func hexLines(_ output: String) -> [String] {
            output.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        }

        @Test("arguments and -e values that are not UTF-8 reach the container byte for byte: run, run -d, exec")
        func bytesThatAreNotUTF8() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let command = Self.printBytes.map { "'\($0.replacingOccurrences(of: "'", with: "'\\''"))'" }.joined(separator: " ")
            let expected = ["61 ff 62", "78 fe 79 ff"]

            let rootfs = try berthWithBytes(root.path, "run --rm --cgroup-parent \(fixture.cgroupParent) --rootfs \(fixture.rootfs) "
                                                 + "-e \"$V\" -- \(command) \"$A\"")
            #expect(rootfs.status == 0 && hexLines(rootfs.stdout) == expected, "\(rootfs.stdout) \(rootfs.stderr)")

            let image = try berthWithBytes(root.path, "run --rm --cgroup-parent \(fixture.cgroupParent) -e \"$V\" "
                                                + "\(LifecycleRoot.image) \(command) \"$A\"")
            #expect(image.status == 0 && hexLines(image.stdout) == expected, "\(image.stdout) \(image.stderr)")

            // Detached: the bytes go through launch.json and the monitor; the log shows od's text.
            let detached = try berthWithBytes(root.path, "run -d --name bytes --cgroup-parent \(fixture.cgroupParent) -e \"$V\" "
                                                   + "\(LifecycleRoot.image) \(command) \"$A\"")
            #expect(detached.status == 0, "\(detached.stderr)")
            #expect(root.waitUntil(seconds: 10) { (try? root.status("bytes"))??.hasPrefix("Exited") == true })
            let logs = try root.berth(["logs", "bytes"])
            #expect(hexLines(logs.stdout) == expected, "\(logs.stdout) \(logs.stderr)")

            // -e NAME takes the caller's value as its bytes.
            _ = try root.runDetached(["--name", "box"], ["sleep", "1000"])
            let exec = try berthWithBytes(root.path, "exec -e \"$V\" box \(command) \"$A\"")
            #expect(exec.status == 0 && hexLines(exec.stdout) == expected, "\(exec.stdout) \(exec.stderr)")
            let inherited = try Command.run("/bin/sh", ["-c", "V=$(printf 'x\\376y\\377'); export V; exec \"$0\" --root \"$1\" exec -e V box "
                                                            + "\(command) a", fixture.berth, root.path])
            #expect(inherited.status == 0 && hexLines(inherited.stdout) == ["61", "78 fe 79 ff"],
                    "\(inherited.stdout) \(inherited.stderr)")
        }

        /// The hierarchies a container's cgroup is made in: v1's memory, cpu and pids, or the
        /// unified tree.
        private var hierarchies: [String] {
            Host.isCgroupV2 ? ["/sys/fs/cgroup"] : ["memory", "cpu", "pids"].map { "/sys/fs/cgroup/" + $0 }
        }

        @Test("--cgroup-parent a/b: the levels berth made go with the container, run or run -d; a level that existed stays")
        func cgroupParentLevels() throws {
            let root = try LifecycleRoot(fixture)
            let top = "berth-inputs-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let existing = fixture.cgroupParent + "-existing"
            defer {
                root.removeAll()
                for hierarchy in hierarchies {
                    for level in [top + "/a/b", top + "/a", top, existing + "/a/b", existing + "/a", existing] {
                        rmdir(hierarchy + "/" + level)
                    }
                }
            }
            let ran = try root.berth(["run", "--rm", "--cgroup-parent", top + "/a/b", LifecycleRoot.image, "true"])
            #expect(ran.status == 0, "\(ran.stderr)")
            for hierarchy in hierarchies { #expect(!FileManager.default.fileExists(atPath: hierarchy + "/" + top)) }

            let id = try root.runDetached(["--cgroup-parent", top + "/a/b"], ["sleep", "1000"])
            for hierarchy in hierarchies { #expect(FileManager.default.fileExists(atPath: "\(hierarchy)/\(top)/a/b/\(id)")) }
            #expect(try root.berth(["rm", "-f", id]).status == 0)
            // The monitor's end removes the cgroup; it may finish just after rm returns.
            #expect(root.waitUntil(seconds: 10) {
                hierarchies.allSatisfy { !FileManager.default.fileExists(atPath: $0 + "/" + top) }
            })

            for hierarchy in hierarchies { #expect(mkdir(hierarchy + "/" + existing, 0o755) == 0) }
            let under = try root.berth(["run", "--rm", "--cgroup-parent", existing + "/a/b", LifecycleRoot.image, "true"])
            #expect(under.status == 0, "\(under.stderr)")
            for hierarchy in hierarchies {
                #expect(FileManager.default.fileExists(atPath: hierarchy + "/" + existing), "a parent that existed is removed")
                #expect(!FileManager.default.fileExists(atPath: hierarchy + "/" + existing + "/a"))
            }
        }
    }
}
