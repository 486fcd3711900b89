import Foundation
import Testing

/// `berth cp` (issue 14): Docker's copy rules both ways, tar streams, ownership, running and
/// stopped containers, and paths that never leave the container's root.
extension Containers {
    @Suite("Copy")
    struct Copy {
        let fixture = Fixture.shared

        /// A scratch directory on the host for one test, under its state root (removed with it).
        func scratch(_ root: LifecycleRoot) throws -> String {
            let dir = root.path + "/host-" + UUID().uuidString.prefix(8)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            return dir
        }

        func write(_ text: String, _ path: String) throws {
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        }

        func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

        /// `berth exec NAME sh -c SCRIPT`'s output, trimmed.
        func exec(_ root: LifecycleRoot, _ name: String, _ script: String) throws -> String {
            let r = try root.berth(["exec", name, "sh", "-c", script])
            guard r.status == 0 else { throw FixtureError(message: "exec \(script): \(r.stderr)") }
            return r.output
        }

        @Test("a file and a directory out of a stopped container: onto a new name, into a directory, contents with /.")
        func copyOutOfStoppedContainer() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "done"], ["sh", "-c", "mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b"])
            #expect(try root.waitForExit("done") == "0")
            let host = try scratch(root)

            #expect(try root.berth(["cp", "done:/data/a", host + "/renamed"]).status == 0)
            #expect(read(host + "/renamed") == "one\n")
            try FileManager.default.createDirectory(atPath: host + "/into", withIntermediateDirectories: false)
            #expect(try root.berth(["cp", "done:/data/a", host + "/into"]).status == 0)
            #expect(read(host + "/into/a") == "one\n")
            // A file over an existing file replaces it.
            try write("old\n", host + "/over")
            #expect(try root.berth(["cp", "done:/data/sub/b", host + "/over"]).status == 0)
            #expect(read(host + "/over") == "two\n")

            // A directory to a new name is that directory; into an existing one, a directory in it.
            #expect(try root.berth(["cp", "done:/data", host + "/copy"]).status == 0)
            #expect(read(host + "/copy/a") == "one\n" && read(host + "/copy/sub/b") == "two\n")
            #expect(try root.berth(["cp", "done:/data", host + "/into"]).status == 0)
            #expect(read(host + "/into/data/sub/b") == "two\n")
            // SRC/. is the contents.
            try FileManager.default.createDirectory(atPath: host + "/contents", withIntermediateDirectories: false)
            #expect(try root.berth(["cp", "done:/data/.", host + "/contents"]).status == 0)
            let listed = try FileManager.default.contentsOfDirectory(atPath: host + "/contents").sorted()
            #expect(listed == ["a", "sub"], "\(listed)")
            // The image's files come through the merged view too.
            #expect(try root.berth(["cp", "done:/bin/busybox", host + "/busybox"]).status == 0)
            #expect(FileManager.default.contentsEqual(atPath: host + "/busybox", andPath: fixture.rootfs + "/bin/busybox"))

            let file = try root.berth(["cp", "done:/data", host + "/over"])
            #expect(file.status != 0 && file.stderr == "berth: cannot copy a directory to the file \(host)/over\n", "\(file.stderr)")
        }

        @Test("files into a stopped container land in its layer beside the image's; the started container sees them")
        func copyIntoStoppedContainer() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.create(["--name", "box"], ["sleep", "1000"])
            let host = try scratch(root)
            try write("new\n", host + "/note")
            try FileManager.default.createDirectory(atPath: host + "/tree/deeper", withIntermediateDirectories: true)
            try write("leaf\n", host + "/tree/deeper/leaf")

            #expect(try root.berth(["cp", host + "/note", "box:/etc/note"]).status == 0)
            #expect(try root.berth(["cp", host + "/note", "box:/usr/"]).status == 0)
            #expect(try root.berth(["cp", host + "/tree", "box:/opt-tree"]).status == 0)
            #expect(try root.berth(["cp", host + "/tree/.", "box:/etc"]).status == 0)
            let upper = root.containersDirectory + "/" + (try root.inspect("box")["Id"] as? String ?? "") + "/upper"
            #expect(read(upper + "/etc/note") == "new\n", "not written into the upper dir")

            #expect(try root.berth(["start", "box"]).status == 0)
            defer { _ = try? root.berth(["rm", "-f", "box"]) }
            #expect(try exec(root, "box", "cat /etc/note /usr/note /opt-tree/deeper/leaf /etc/deeper/leaf") == "new\nnew\nleaf\nleaf")
            // The image's files beside them are still there.
            #expect(try exec(root, "box", "test -x /bin/busybox && test -d /etc && echo ok") == "ok")
        }

        @Test("a path the stopped container deleted comes back: a file over its whiteout, a directory made opaque")
        func copyOverDeletedPaths() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "box"], ["/bin/busybox", "rm", "-rf", "/etc/passwd", "/bin"])
            #expect(try root.waitForExit("box") == "0")
            let host = try scratch(root)
            try write("again\n", host + "/passwd")
            try FileManager.default.createDirectory(atPath: host + "/bin", withIntermediateDirectories: false)
            try write("only\n", host + "/bin/only")
            #expect(try root.berth(["cp", host + "/passwd", "box:/etc/passwd"]).status == 0)
            #expect(try root.berth(["cp", host + "/bin", "box:/"]).status == 0)
            let tar = host + "/box.tar"
            #expect(try root.berth(["export", "-o", tar, "box"]).status == 0)
            let names = try Containers.Export.names(tar)
            #expect(names.filter { $0.hasPrefix("bin/") && $0 != "bin/" } == ["bin/only"], "the image's /bin shows through: \(names.count) names")
            #expect(try Containers.Export.contents(tar, "etc/passwd") == "again\n")
        }

        @Test("into and out of a running container; a file deleted in it can be copied back")
        func copyRunningContainer() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "live"], ["sh", "-c", "echo inside > /made && rm /bin/payload && sleep 1000"])
            #expect(root.waitUntil(seconds: 10) { (try? root.berth(["exec", "live", "cat", "/made"]).output) == "inside" })
            let host = try scratch(root)
            #expect(try root.berth(["cp", "live:/made", host + "/made"]).status == 0)
            #expect(read(host + "/made") == "inside\n")
            let gone = try root.berth(["cp", "live:/bin/payload", host + "/payload"])
            #expect(gone.status == 1 && gone.stderr == "berth: Could not find the file /bin/payload in container live\n", "\(gone.stderr)")

            try write("back\n", host + "/payload")
            #expect(try root.berth(["cp", host + "/payload", "live:/bin/payload"]).status == 0)
            #expect(try exec(root, "live", "cat /bin/payload") == "back")
            #expect(try root.status("live")?.hasPrefix("Up ") == true)
        }

        @Test("- writes a tar on stdout and reads one from stdin")
        func tarStreams() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "done"], ["sh", "-c", "mkdir /data && echo one > /data/a"])
            #expect(try root.waitForExit("done") == "0")
            let host = try scratch(root)
            let out = try Spawned(fixture.berth, ["--root", root.path, "cp", "done:/data", "-"], stdout: host + "/out.tar",
                                  stderr: host + "/out.err")
            #expect(out.wait(seconds: 60) == 0, "\(read(host + "/out.err") ?? "")")
            let names = try Containers.Export.names(host + "/out.tar").sorted()
            #expect(names == ["data/", "data/a"], "\(names)")

            try FileManager.default.createDirectory(atPath: host + "/src/in", withIntermediateDirectories: true)
            try write("streamed\n", host + "/src/in/s")
            #expect(try Command.run("/bin/tar", ["-cf", host + "/in.tar", "-C", host + "/src", "in"]).status == 0)
            let shell = "'\(fixture.berth)' --root '\(root.path)' cp - done:/data < '\(host)/in.tar'"
            let piped = try Command.run("/bin/sh", ["-c", shell])
            #expect(piped.status == 0, "\(piped.stderr)")
            #expect(try root.berth(["cp", "done:/data/in/s", host + "/s"]).status == 0)
            #expect(read(host + "/s") == "streamed\n")

            let notDirectory = try Command.run("/bin/sh", ["-c", "'\(fixture.berth)' --root '\(root.path)' cp - done:/data/a < '\(host)/in.tar'"])
            #expect(notDirectory.status != 0 && notDirectory.stderr.contains("is not a directory"), "\(notDirectory.stderr)")
        }

        @Test("files copied in belong to the container's root, or keep their ids with -a")
        func ownership() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "live"], ["sleep", "1000"])
            let host = try scratch(root)
            try write("owned\n", host + "/owned")
            #expect(chown(host + "/owned", 1234, 5678) == 0)
            #expect(try root.berth(["cp", host + "/owned", "live:/tmp/plain"]).status == 0)
            #expect(try root.berth(["cp", "-a", host + "/owned", "live:/tmp/kept"]).status == 0)
            #expect(try exec(root, "live", "ls -ln /tmp/plain | awk '{print $3\":\"$4}'") == "0:0")
            #expect(try exec(root, "live", "ls -ln /tmp/kept | awk '{print $3\":\"$4}'") == "1234:5678")
        }

        @Test("a link in the container never leads to the host's files, running or stopped, reading or writing")
        func linksStayInside() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let setup = "ln -s / /escape && ln -s ../../../../../.. /up && ln -s /up/etc/shadow /shadow-link && "
                + "echo container-shadow > /etc/shadow && mkdir -p /tmp"
            _ = try root.runDetached(["--name", "live"], ["sh", "-c", setup + " && sleep 1000"])
            #expect(root.waitUntil(seconds: 10) { (try? root.berth(["exec", "live", "cat", "/etc/shadow"]).output) == "container-shadow" })
            _ = try root.runDetached(["--name", "done"], ["sh", "-c", setup])
            #expect(try root.waitForExit("done") == "0")
            let host = try scratch(root)
            let planted = "berth-cp-\(UUID().uuidString.prefix(8))"
            try write("planted\n", host + "/planted")
            defer { try? FileManager.default.removeItem(atPath: "/tmp/" + planted) }
            for name in ["live", "done"] {
                for path in ["/escape/etc/shadow", "/up/etc/shadow", "/up/escape/../etc/shadow"] {
                    let copied = host + "/\(name)-shadow"
                    try? FileManager.default.removeItem(atPath: copied)
                    let r = try root.berth(["cp", "\(name):\(path)", copied])
                    #expect(r.status == 0, "\(r.stderr)")
                    #expect(read(copied) == "container-shadow\n", "\(name):\(path) read \(read(copied) ?? "nothing")")
                }
                // -L follows the link itself inside the container too; without it the link is copied.
                let linked = host + "/\(name)-linked"
                #expect(try root.berth(["cp", "-L", "\(name):/shadow-link", linked]).status == 0)
                #expect(read(linked) == "container-shadow\n")
                let link = host + "/\(name)-link"
                #expect(try root.berth(["cp", "\(name):/shadow-link", link]).status == 0)
                #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == "/up/etc/shadow")
                #expect(try root.berth(["cp", host + "/planted", "\(name):/escape/tmp/\(planted)"]).status == 0)
                #expect(!FileManager.default.fileExists(atPath: "/tmp/" + planted), "cp wrote the host's /tmp")
            }
            #expect(try exec(root, "live", "cat /tmp/\(planted)") == "planted")
            // The root itself, by a link that names it, is the container's root.
            #expect(try root.berth(["cp", "-L", "done:/escape", host + "/whole"]).status == 0)
            #expect(read(host + "/whole/etc/shadow") == "container-shadow\n")
            #expect(!FileManager.default.fileExists(atPath: host + "/etc"), "the root's names went beside the destination")
        }

        @Test("a named volume is read and written at its mount point; a stopped container's tmpfs is refused, a running one's used")
        func copyVolumeOfStoppedContainer() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let volume = "cp-\(UUID().uuidString.prefix(8).lowercased())"
            _ = try root.create(["--name", "box", "-v", volume + ":/data", "--tmpfs", "/scratch"], ["sleep", "1000"])
            defer { _ = try? root.berth(["rm", "-f", "box"]); _ = try? root.berth(["volume", "rm", volume]) }
            let host = try scratch(root)
            try write("in the volume\n", host + "/v")
            #expect(try root.berth(["cp", host + "/v", "box:/data/v"]).status == 0)
            #expect(read(root.path + "/volumes/\(volume)/_data/v") == "in the volume\n")
            #expect(try root.berth(["cp", "box:/data/v", host + "/back"]).status == 0)
            #expect(read(host + "/back") == "in the volume\n")
            let stopped = try root.berth(["cp", host + "/v", "box:/scratch/v"])
            #expect(stopped.status == 1 && stopped.stderr == "berth: /scratch/v is on the tmpfs at /scratch of container box, "
                        + "which holds nothing while the container is stopped: start it first\n", "\(stopped.stderr)")
            #expect(try root.berth(["start", "box"]).status == 0)
            #expect(try exec(root, "box", "cat /data/v") == "in the volume")
            // Running, the tmpfs is the container's own and is copied into like any directory.
            #expect(try root.berth(["cp", host + "/v", "box:/scratch/v"]).status == 0)
            #expect(try exec(root, "box", "cat /scratch/v") == "in the volume")
        }

        @Test("cp refuses an unknown container, a missing file or directory, two container paths, and a bad destination")
        func refusals() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.create(["--name", "box"], ["true"])
            let host = try scratch(root)
            let ghost = try root.berth(["cp", "ghost:/etc/passwd", host + "/x"])
            #expect(ghost.status == 1 && ghost.stderr == "berth: no such container: ghost\n", "\(ghost.stderr)")
            let missing = try root.berth(["cp", "box:/no/such", host + "/x"])
            #expect(missing.status == 1 && missing.stderr == "berth: Could not find the file /no/such in container box\n",
                    "\(missing.stderr)")
            try write("x\n", host + "/file")
            let parent = try root.berth(["cp", host + "/file", "box:/no/such/file"])
            #expect(parent.status == 1 && parent.stderr == "berth: Could not find the file /no in container box\n", "\(parent.stderr)")
            let hostParent = try root.berth(["cp", "box:/bin/busybox", host + "/none/busybox"])
            #expect(hostParent.status != 0 && hostParent.stderr.contains("\(host)/none does not exist"), "\(hostParent.stderr)")
            let both = try root.berth(["cp", "box:/a", "box:/b"])
            #expect(both.status == 125 && both.stderr == "berth: copying between two containers is not supported: copy through the host\n")
            let neither = try root.berth(["cp", host + "/a", host + "/b"])
            #expect(neither.status == 125 && neither.stderr == "berth: one of the paths must be CONTAINER:PATH\n")
            #expect(!FileManager.default.fileExists(atPath: host + "/x"))
        }
    }
}
