import CFileSystem
import Foundation
import Testing

extension Containers {
    /// The image commands end to end (issue 4, "Images"): import, images, run IMAGE, ps, rm, diff,
    /// commit, history, tag, rmi, image prune, save and load, each driven through the CLI and
    /// checked by what it prints and by what it leaves in the state root.
    @Suite("Images")
    struct Images {
        let fixture = Fixture.shared

        // MARK: - The issue's walkthrough

        @Test("the issue's walkthrough: import, images, run, diff, commit, history, tag, rmi, prune")
        func walkthrough() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let source = try store.busyboxCopy(files: ["etc/motd": "welcome\n"])

            let imported = try store.berth(["import", source, "busybox:1.35"])
            try #require(imported.status == 0, "\(imported.stderr)")
            #expect(imported.output.wholeMatch(of: /sha256:[0-9a-f]{64}/) != nil, "\(imported.output)")

            let images = try store.berth(["images"])
            #expect(images.status == 0)
            let listed = table(images.stdout)
            #expect(listed.count == 1, "\(images.stdout)")
            let busybox = try #require(listed.first)
            #expect(busybox["REPOSITORY"] == "busybox")
            #expect(busybox["TAG"] == "1.35")
            let shortID = busybox["IMAGE ID"] ?? ""
            #expect(shortID.wholeMatch(of: /[0-9a-f]{12}/) != nil, "\(images.stdout)")
            #expect(imported.output.hasPrefix("sha256:" + shortID))
            #expect((busybox["SIZE"] ?? "").wholeMatch(of: /[0-9.]+(B|kB|MB)/) != nil, "\(images.stdout)")

            let ran = try store.run(["--name", "cranky_curie", "busybox:1.35",
                                     "sh", "-c", "echo hi > /greeting; rm /etc/motd"])
            #expect(ran.status == 0, "\(ran.stderr)")
            #expect(ran.stdout.isEmpty)

            let diff = try store.berth(["diff", "cranky_curie"])
            #expect(diff.status == 0, "\(diff.stderr)")
            #expect(diff.output == "C /etc\nD /etc/motd\nA /greeting")

            let commit = try store.berth(["commit", "-m", "add greeting", "-a", "Ada", "cranky_curie", "me/greeting:v1"])
            try #require(commit.status == 0, "\(commit.stderr)")
            let imageID = commit.output
            #expect(imageID.wholeMatch(of: /sha256:[0-9a-f]{64}/) != nil, "\(imageID)")

            let history = try store.berth(["history", "me/greeting:v1"])
            #expect(history.status == 0, "\(history.stderr)")
            let steps = table(history.stdout)
            #expect(steps.count == 2, "\(history.stdout)")
            if steps.count == 2 {
                #expect(imageID.hasPrefix("sha256:" + (steps[0]["IMAGE"] ?? "-")), "newest first: \(history.stdout)")
                #expect(steps[0]["CREATED BY"]?.contains("echo hi > /greeting") == true, "\(history.stdout)")
                #expect(steps[0]["COMMENT"] == "add greeting", "\(history.stdout)")
                #expect(steps[1]["CREATED BY"]?.contains("import") == true, "\(history.stdout)")
            }
            let inspected = try store.inspect("me/greeting:v1")
            #expect(inspected?["Author"] as? String == "Ada")
            #expect(inspected?["Id"] as? String == imageID)

            let greeting = try store.run(["--rm", "me/greeting:v1", "cat", "/greeting"])
            #expect(greeting.status == 0, "\(greeting.stderr)")
            #expect(greeting.stdout == "hi\n")
            let ps = try store.berth(["ps", "-a", "-q", "--no-trunc"])
            #expect(ps.output == store.containers.joined(separator: "\n"), "--rm left a container: \(ps.stdout)")
            #expect(store.containers.count == 1)

            let tag = try store.berth(["tag", "me/greeting:v1", "me/greeting:latest"])
            #expect(tag.status == 0, "\(tag.stderr)")
            let tagged = table(try store.berth(["images"]).stdout).filter { $0["REPOSITORY"] == "me/greeting" }
            #expect(Set(tagged.compactMap { $0["TAG"] }) == ["v1", "latest"])
            #expect(Set(tagged.compactMap { $0["IMAGE ID"] }).count == 1)
            #expect(imageID.hasPrefix("sha256:" + (tagged.first?["IMAGE ID"] ?? "-")))

            let blobsBeforeUntag = store.blobs
            let untag = try store.berth(["rmi", "me/greeting:v1"])
            #expect(untag.status == 0, "\(untag.stderr)")
            #expect(untag.output == "Untagged: me/greeting:v1", "another tag still names the image: \(untag.stdout)")
            #expect(store.blobs == blobsBeforeUntag)
            #expect(try store.tags() == ["busybox:1.35", "me/greeting:latest"])

            // An image a container uses is kept unless -f.
            let inUse = try store.berth(["rmi", "busybox:1.35"])
            expectFailure(inUse, status: 1, mentioning: ["busybox:1.35", "container"])
            #expect(try store.tags() == ["busybox:1.35", "me/greeting:latest"])

            // A commit without a name makes an untagged image; prune removes it and only it.
            let dangling = try store.berth(["commit", "cranky_curie"])
            try #require(dangling.status == 0, "\(dangling.stderr)")
            #expect(store.blobs.count == blobsBeforeUntag.count + 2, "a new config and manifest, the same layer")
            #expect(table(try store.berth(["images", "-a"]).stdout).contains { $0["TAG"] == "<none>" })
            let prune = try store.berth(["image", "prune"])
            #expect(prune.status == 0, "\(prune.stderr)")
            #expect(prune.stdout.contains("Deleted: " + dangling.output), "\(prune.stdout)")
            #expect(store.blobs == blobsBeforeUntag)
            #expect(try store.tags() == ["busybox:1.35", "me/greeting:latest"])

            // Without containers and with -a, everything goes: every blob and every unpacked layer.
            let rm = try store.berth(["rm", "cranky_curie"])
            #expect(rm.status == 0, "\(rm.stderr)")
            #expect(!store.blobs.isEmpty && store.layers.count == 2, "busybox's layer and the greeting's")
            let pruneAll = try store.berth(["image", "prune", "-a"])
            #expect(pruneAll.status == 0, "\(pruneAll.stderr)")
            #expect(pruneAll.stdout.contains("Untagged: busybox:1.35"), "\(pruneAll.stdout)")
            #expect(pruneAll.stdout.contains("Deleted: " + imageID), "\(pruneAll.stdout)")
            #expect(store.blobs.isEmpty, "\(store.blobs)")
            #expect(store.layers.isEmpty, "\(store.layers)")
            #expect(try store.tags().isEmpty)
            #expect(store.mounts().isEmpty)
        }

        // MARK: - Containers made from images

        @Test("a container stays after it exits until rm; --rm and a taken name leave nothing")
        func containersStay() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")

            let exit3 = try store.run(["--name", "exits_three", "busybox:1.35", "sh", "-c", "exit 3"])
            #expect(exit3.status == 3, "\(exit3.stderr)")
            let id = try #require(store.containers.first)
            #expect(store.containers.count == 1)
            for part in ["config.json", "upper", "work"] {
                #expect(FileManager.default.fileExists(atPath: store.path + "/containers/\(id)/\(part)"), "\(part)")
            }

            let all = table(try store.berth(["ps", "-a"]).stdout)
            #expect(all.count == 1)
            #expect(all.first?["NAMES"] == "exits_three")
            #expect(all.first?["CONTAINER ID"] == String(id.prefix(12)))
            #expect(all.first?["IMAGE"] == "busybox:1.35")
            #expect(all.first?["STATUS"]?.hasPrefix("Exited (3)") == true, "\(all)")
            let running = try store.berth(["ps"])
            #expect(running.status == 0)
            #expect(table(running.stdout).isEmpty, "an exited container is not running: \(running.stdout)")
            #expect(try store.berth(["ps", "-q"]).output.isEmpty)
            #expect(try store.berth(["ps", "-a", "-q"]).output == String(id.prefix(12)))
            #expect(try store.berth(["ps", "-a", "-q", "--no-trunc"]).output == id)

            let json = try store.berth(["ps", "-a", "--format", "json"])
            #expect(json.status == 0)
            let lines = json.output.split(separator: "\n")
            #expect(lines.count == 1)
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["Names"] as? String == "exits_three", "\(line)")
                #expect(object?["ID"] as? String == String(id.prefix(12)), "\(line)")
                #expect(object?["State"] as? String == "exited", "\(line)")
                #expect((object?["Status"] as? String)?.hasPrefix("Exited (3)") == true, "\(line)")
            }
            #expect(try store.berth(["ps", "--format", "json"]).output.isEmpty)

            // The name is taken: the second run fails before it creates anything.
            let taken = try store.run(["--name", "exits_three", "busybox:1.35", "true"])
            expectFailure(taken, status: 125, mentioning: ["already in use", "exits_three"])
            #expect(store.containers == [id])
            #expect(store.names == ["exits_three"])

            let rm = try store.berth(["rm", "exits_three"])
            #expect(rm.status == 0, "\(rm.stderr)")
            #expect(!FileManager.default.fileExists(atPath: store.path + "/containers/\(id)"))
            #expect(store.containers.isEmpty)
            #expect(store.names.isEmpty)
            #expect(table(try store.berth(["ps", "-a"]).stdout).isEmpty)
            expectFailure(try store.berth(["rm", "exits_three"]), status: 1, mentioning: ["exits_three"])

            let removed = try store.run(["--rm", "--name", "exits_three", "busybox:1.35", "sh", "-c", "exit 4"])
            #expect(removed.status == 4, "\(removed.stderr)")
            #expect(store.containers.isEmpty)
            #expect(store.names.isEmpty)
            #expect(try store.berth(["ps", "-a", "-q"]).output.isEmpty)
            #expect(store.mounts().isEmpty)
        }

        @Test("a --rm container's overlay is volatile (no sync of the upper filesystem); a kept one's is not")
        func disposableUpperIsVolatile() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")
            // The root's line in the container's own mountinfo: "... / / ... - overlay overlay OPTIONS".
            let rootOptions = ["sh", "-c", "grep ' / / ' /proc/self/mountinfo | sed 's/.* - //'"]
            let disposable = try store.run(["--rm", "busybox:1.35"] + rootOptions)
            #expect(disposable.status == 0, "\(disposable.stderr)")
            #expect(disposable.stdout.hasPrefix("overlay "), "\(disposable.stdout)")
            #expect(disposable.stdout.contains("volatile"), "\(disposable.stdout)")
            #expect(store.containers.isEmpty)

            let kept = try store.run(["--name", "kept_box", "busybox:1.35"] + rootOptions)
            #expect(kept.status == 0, "\(kept.stderr)")
            #expect(kept.stdout.hasPrefix("overlay "), "\(kept.stdout)")
            #expect(!kept.stdout.contains("volatile"), "\(kept.stdout)")
            // A kept container starts again on the same upper dir, which "volatile" would refuse.
            #expect(try store.berth(["start", "kept_box"]).status == 0)
            #expect(try store.berth(["rm", "-f", "kept_box"]).status == 0)
            #expect(store.mounts().isEmpty)
        }

        @Test("nothing stays mounted on the host after image runs, failed or not")
        func noHostMounts() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")
            let cases: [(args: [String], status: Int32)] = [
                (["--name", "kept_one", "busybox:1.35", "sh", "-c", "echo x > /x"], 0),
                (["--rm", "busybox:1.35", "sh", "-c", "exit 7"], 7),
                (["--rm", "busybox:1.35", "/bin/nope"], 127),
                (["--name", "kept_one", "busybox:1.35", "true"], 125),
                (["--rm", "--read-only", "busybox:1.35", "true"], 0),
                (["--rm", "busybox:1.35"], 125),
            ]
            for (args, status) in cases {
                let r = try store.run(args)
                #expect(r.status == status, "\(args): \(r.stderr)")
            }
            let commit = try store.berth(["commit", "kept_one", "kept:1"])
            #expect(commit.status == 0, "\(commit.stderr)")
            #expect(try store.run(["--rm", "kept:1", "cat", "/x"]).stdout == "x\n")
            #expect(store.mounts().isEmpty, "\(store.mounts())")
            #expect(store.containers.count == 1)
        }

        // MARK: - Layers through commit

        @Test("commit round-trips deletions, opaque directories, renames, links, modes, owners, devices, xattrs and sparse files")
        func commitRoundTrip() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let source = try store.busyboxCopy(files: [
                "etc/lowerfile": "lower\n", "data/old/file": "old\n", "data/old/deeper/more": "more\n",
                "keep/moveme": "mv\n", "keep/owned": "own\n", "keep/mode": "mode\n",
            ])
            #expect(try store.berth(["import", source, "base:1"]).status == 0)

            let script = """
                set -e
                rm /etc/lowerfile
                rm -r /data; mkdir -p /data/new; echo new > /data/new/file
                mv /keep/moveme /keep/moved
                echo hl > /keep/hl1; ln /keep/hl1 /keep/hl2
                ln -s ../etc/passwd /keep/sym
                chmod 4751 /keep/mode
                chown 1234:5678 /keep/owned
                mknod /keep/null c 1 3; mknod /keep/fifo p
                dd if=/dev/zero of=/keep/big bs=1M seek=100 count=1 2>/dev/null
                echo tail >> /keep/big
                touch /keep/xattr
                """
            let work = try store.run(["--name", "work_box", "base:1", "sh", "-c", script])
            try #require(work.status == 0, "\(work.stderr)")
            let workID = try #require(store.containers.first)
            // busybox has no setfattr and the payload no xattr call: set it in the writable layer
            // while the container is stopped, where commit reads it.
            let upperFile = store.path + "/containers/\(workID)/upper/keep/xattr"
            let value = Array("round-trip".utf8)
            let set = setxattr(upperFile, "user.berth", value, value.count, 0)
            // The VM keeps its state on tmpfs, which takes user.* xattrs only from Linux 6.6.
            let xattrs = set == 0 || errno != EOPNOTSUPP
            #expect(set == 0 || !xattrs, "setxattr: errno \(errno)")

            let diff = try store.berth(["diff", "work_box"]).output.split(separator: "\n").map(String.init)
            for line in ["D /etc/lowerfile", "A /data/new", "A /data/new/file", "A /keep/moved", "D /keep/moveme",
                         "A /keep/hl1", "A /keep/hl2", "A /keep/sym", "C /keep/mode", "C /keep/owned",
                         "A /keep/null", "A /keep/fifo", "A /keep/big"] {
                #expect(diff.contains(line), "\(line) missing from \(diff)")
            }
            let commit = try store.berth(["commit", "work_box", "roundtrip:1"])
            try #require(commit.status == 0, "\(commit.stderr)")

            let check = """
                ls /etc/lowerfile 2>/dev/null || echo lowerfile gone
                find /data | sort; cat /data/new/file
                ls /keep/moveme 2>/dev/null || echo moveme gone; cat /keep/moved
                stat -c '%n %h %i' /keep/hl1 /keep/hl2 | awk '{print $1, $2}'
                [ "$(stat -c %i /keep/hl1)" = "$(stat -c %i /keep/hl2)" ] && echo same inode
                readlink /keep/sym
                stat -c '%n %a %u:%g %F' /keep/mode /keep/owned /keep/sym /keep/fifo
                stat -c '%n %F %t:%T' /keep/null
                stat -c '%n %s' /keep/big; tail -c 5 /keep/big
                echo blocks $(stat -c %b /keep/big)
                cat /keep/owned
                """
            let inside = try store.run(["--rm", "roundtrip:1", "sh", "-c", check])
            #expect(inside.status == 0, "\(inside.stderr)")
            var lines = inside.stdout.split(separator: "\n").map(String.init)
            let blocks = lines.first { $0.hasPrefix("blocks ") }.flatMap { Int($0.dropFirst(7)) } ?? Int.max
            lines.removeAll { $0.hasPrefix("blocks ") }
            #expect(lines == [
                "lowerfile gone",
                "/data", "/data/new", "/data/new/file", "new",
                "moveme gone", "mv",
                "/keep/hl1 2", "/keep/hl2 2", "same inode",
                "../etc/passwd",
                "/keep/mode 4751 0:0 regular file",
                "/keep/owned 644 1234:5678 regular file",
                "/keep/sym 777 0:0 symbolic link",
                "/keep/fifo 644 0:0 fifo",
                "/keep/null character special file 1:3",
                "/keep/big 105906181", "tail",
                "own",
            ], "\(inside.stdout)")
            // 100 MiB of hole and 1 MiB of zeros: the hole must not come back as data.
            #expect(blocks < 8 * 2048, "the sparse file grew to \(blocks) blocks")

            // The xattr came through the layer tar into the unpacked layer.
            let withXattr = store.layers.map { store.path + "/layers/\($0)/keep/xattr" }
                .filter { FileManager.default.fileExists(atPath: $0) }
            #expect(withXattr.count == 1)
            for path in withXattr where xattrs {
                var buffer = [UInt8](repeating: 0, count: 64)
                let n = getxattr(path, "user.berth", &buffer, buffer.count)
                #expect(n > 0 && String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self) == "round-trip", "getxattr: \(n), errno \(errno)")
            }

            // One more layer on top: the whiteouts and the opaque directory still hide the lower content.
            let again = try store.run(["--name", "second_box", "roundtrip:1", "sh", "-c", "echo 2 > /data/new/two"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(try store.berth(["diff", "second_box"]).output == "C /data/new\nA /data/new/two")
            #expect(try store.berth(["commit", "second_box", "roundtrip:2"]).status == 0)
            let top = try store.run(["--rm", "roundtrip:2", "sh", "-c", "find /data | sort; ls /etc/lowerfile 2>&1 >/dev/null | wc -l"])
            #expect(top.stdout == "/data\n/data/new\n/data/new/file\n/data/new/two\n1\n", "\(top.stdout)")
            #expect(store.mounts().isEmpty)
        }

        // MARK: - Image config

        @Test("image config: Env is inherited, Cmd and Entrypoint apply, -w -u -e override")
        func imageConfig() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")

            let noCommand = try store.run(["--rm", "busybox:1.35"])
            expectFailure(noCommand, status: 125, mentioning: ["busybox:1.35", "Cmd"])
            #expect(store.containers.isEmpty)

            #expect(try store.run(["--name", "first_box", "busybox:1.35", "touch", "/one"]).status == 0)
            let parent = try store.berth(["commit", "-c", "ENV X=parent", "first_box", "parent:1"])
            try #require(parent.status == 0, "\(parent.stderr)")
            #expect(try store.run(["--name", "second_box", "parent:1", "touch", "/two"]).status == 0)
            let child = try store.berth(["commit", "second_box", "child:1"])
            try #require(child.status == 0, "\(child.stderr)")
            let env = (try store.inspect("child:1")?["Config"] as? [String: Any])?["Env"] as? [String]
            #expect(env?.contains("X=parent") == true, "\(String(describing: env))")
            #expect(env?.contains { $0.hasPrefix("PATH=") } == true, "\(String(describing: env))")

            let probe = "pwd; id -u; id -g; echo $X $Y; ls /one /two"
            let defaults = try store.run(["--rm", "child:1", "sh", "-c", probe])
            #expect(defaults.stdout == "/\n0\n0\nparent\n/one\n/two\n", "\(defaults.stdout) \(defaults.stderr)")
            let overridden = try store.run(["--rm", "-w", "/tmp", "-u", "1000:1001", "-e", "Y=why", "-e", "X=mine",
                                            "child:1", "sh", "-c", probe])
            #expect(overridden.stdout == "/tmp\n1000\n1001\nmine why\n/one\n/two\n",
                    "\(overridden.stdout) \(overridden.stderr)")

            #expect(try store.run(["--name", "third_box", "child:1", "true"]).status == 0)
            let withCmd = try store.berth(["commit", "-c", #"CMD ["echo", "from", "cmd"]"#, "third_box", "cmd:1"])
            try #require(withCmd.status == 0, "\(withCmd.stderr)")
            #expect(try store.run(["--rm", "cmd:1"]).stdout == "from cmd\n")
            #expect(try store.run(["--rm", "cmd:1", "echo", "args"]).stdout == "args\n")
            let entry = try store.run(["--rm", "--entrypoint", "/bin/echo", "cmd:1", "given"])
            #expect(entry.stdout == "given\n", "\(entry.stdout) \(entry.stderr)")
            let entryAlone = try store.run(["--rm", "--entrypoint", "/bin/echo", "cmd:1"])
            #expect(entryAlone.stdout == "\n", "--entrypoint drops the image's Cmd: \(entryAlone.stdout)")

            #expect(try store.run(["--name", "fourth_box", "cmd:1", "true"]).status == 0)
            let withEntry = try store.berth(["commit", "-c", #"ENTRYPOINT ["echo", "ep"]"#, "fourth_box", "ep:1"])
            try #require(withEntry.status == 0, "\(withEntry.stderr)")
            #expect(try store.run(["--rm", "ep:1", "arg"]).stdout == "ep arg\n")
            #expect(store.mounts().isEmpty)
        }

        // MARK: - Bad input

        @Test("bad references and unknown images fail with one line and change nothing",
              arguments: [["BUSYBOX::x", "true"], ["nope:1", "true"], ["busybox:1.35@sha256:00", "true"],
                          ["sha256:" + String(repeating: "0", count: 64), "true"]])
        func badReference(_ args: [String]) throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")
            let before = store.listing()
            // --pull never: what is checked here is the local lookup (the default's pull of a
            // missing image is the next test's).
            let r = try store.run(["--pull", "never"] + args)
            expectFailure(r, status: 125, mentioning: [])
            #expect(store.listing() == before)
            #expect(store.containers.isEmpty)
            #expect(store.temporaries.isEmpty)
            if args[0].hasPrefix("sha256:") {
                // An id is never pulled, whatever the policy.
                let byID = try store.run(args)
                expectFailure(byID, status: 125, mentioning: ["no image"])
                #expect(store.listing() == before)
            }
        }

        @Test("a missing image is pulled by default; an unreachable registry is one error line, and nothing changes")
        func missingImagePulled() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")
            let before = store.listing()
            // Port 1 on loopback: refused at once, and no test ever reaches past this machine.
            let r = try store.run(["127.0.0.1:1/nope:1", "true"])
            #expect(r.status == 125, "\(r.stderr)")
            let lines = r.stderr.split(separator: "\n").map(String.init)
            // Docker's notice, the warning that a loopback registry is spoken to over plain HTTP,
            // and the error.
            #expect(lines.count == 3, "\(r.stderr)")
            #expect(lines.first == "Unable to find image '127.0.0.1:1/nope:1' locally")
            #expect(lines.dropFirst().first?.hasPrefix("berth: warning: ") == true, "\(r.stderr)")
            #expect(lines.last?.hasPrefix("berth: ") == true && lines.last?.contains("127.0.0.1:1") == true, "\(r.stderr)")
            #expect(store.listing() == before)
            #expect(store.containers.isEmpty)
            #expect(store.temporaries.isEmpty)
        }

        @Test("the other commands fail with exit 1 and one line on unknown names")
        func unknownNames() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")
            let before = store.listing()
            for args in [["diff", "no_such"], ["commit", "no_such"], ["rm", "no_such"], ["rmi", "nope:1"],
                         ["tag", "nope:1", "x:1"], ["history", "nope:1"], ["tag", "busybox:1.35", "BAD::tag"],
                         ["import", fixture.rootfs, "BAD::tag"], ["rmi", "BAD::tag"], ["history", "BAD::tag"],
                         ["import", fixture.workspace.path + "/no-such-dir", "x:1"]] {
                let r = try store.berth(args)
                expectFailure(r, status: 1, mentioning: [], "\(args)")
            }
            #expect(store.listing() == before)
            #expect(try store.tags() == ["busybox:1.35"])
        }

        @Test("a damaged layer blob is refused when it must be unpacked")
        func damagedLayer() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")
            let layer = try #require(try store.layerDigests(of: "busybox:1.35").first)
            let blob = store.path + "/oci/blobs/sha256/" + layer
            let handle = try #require(FileHandle(forUpdatingAtPath: blob))
            try handle.seek(toOffset: 5000)
            let byte = try #require(try handle.read(upToCount: 1)?.first)
            try handle.seek(toOffset: 5000)
            try handle.write(contentsOf: Data([byte ^ 0xff]))
            try handle.close()
            for entry in store.layers {
                try FileManager.default.removeItem(atPath: store.path + "/layers/" + entry)
            }
            let before = store.listing()
            #expect(store.consistencyProblems().contains { $0.contains(layer) }, "the checker must see the damage")

            let r = try store.run(["--rm", "busybox:1.35", "true"])
            expectFailure(r, status: 125, mentioning: [layer])
            #expect(r.stderr.contains("damaged") || r.stderr.contains("digest"), "\(r.stderr)")
            #expect(store.listing() == before)
            #expect(store.layers.isEmpty, "a damaged layer must not be unpacked")
            #expect(store.containers.isEmpty)
            #expect(store.temporaries.isEmpty)
            #expect(store.mounts().isEmpty)
        }

        /// Tars that try to write outside the image; `TOKEN` makes the names unique to one test.
        static let hostileTars: [(kind: String, entry: String)] = [
            ("dotdot", "../TOKEN"),
            ("deep-dotdot", "../../../TOKEN"),
            ("absolute", "/etc/TOKEN"),
            ("symlink-root", "link/etc/TOKEN"),
            ("symlink-up", "up/TOKEN"),
            ("hardlink", "hardlinked-passwd"),
            ("hardlink-up", "hardlinked-target"),
        ]

        @Test("hostile tars are refused by import, naming the entry; nothing lands outside",
              arguments: Images.hostileTars.map(\.kind))
        func hostileImport(_ kind: String) throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")
            let token = "berth-evil-\(UUID().uuidString.prefix(8))"
            // A file a hardlink could reach by climbing out of the store.
            let target = (store.path as NSString).deletingLastPathComponent + "/\(token)-target"
            try "target\n".write(toFile: target, atomically: false, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: target) }
            let tar = try store.hostileTar(kind, token: token)
            let entry = Images.hostileTars.first { $0.kind == kind }?.entry.replacingOccurrences(of: "TOKEN", with: token) ?? "?"
            let before = store.listing()

            for source in [tar, tar + ".gz"] {
                let r = try store.berth(["import", source, "evil:\(kind)"])
                expectFailure(r, status: 1, mentioning: [entry], "\(kind) \(source)")
            }
            // The same tar on stdin.
            let piped = try Command.run("/bin/sh", ["-c", "exec \"$0\" --root \"$1\" import - evil:stdin < \"$2\"",
                                                    fixture.berth, store.path, tar])
            expectFailure(piped, status: 1, mentioning: [entry], "\(kind) on stdin")

            #expect(store.listing() == before)
            #expect(try store.tags() == ["busybox:1.35"])
            #expect(store.temporaries.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: "/etc/\(token)"))
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "target\n")
            let strays = FileManager.default.enumerator(atPath: fixture.workspace.path)?
                .compactMap { $0 as? String }.filter { $0.hasSuffix(token) } ?? []
            #expect(strays.isEmpty, "written outside the image: \(strays)")
        }

        @Test("device nodes in a tar are refused unless --allow-devices")
        func devicesInTar() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let tar = try store.hostileTar("device", token: "unused")
            expectFailure(try store.berth(["import", tar, "dev:1"]), status: 1, mentioning: ["null"])
            #expect(try store.tags().isEmpty)
            let allowed = try store.berth(["import", "--allow-devices", tar, "dev:1"])
            #expect(allowed.status == 0, "\(allowed.stderr)")
            let layer = try #require(try store.layerDigests(of: "dev:1").first)
            let listing = try Command.run("/bin/tar", ["-tvzf", store.path + "/oci/blobs/sha256/" + layer])
            #expect(listing.stdout.contains("1,3") && listing.stdout.contains("null"), "\(listing.stdout)")
        }

        // MARK: - Other tools read the store

        @Test("skopeo reads berth's OCI layout", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo"),
                                                  "needs skopeo (apt-get install skopeo)"))
        func skopeo() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")
            let layer = try #require(try store.layerDigests(of: "busybox:1.35").first)
            let r = try Command.run("/usr/bin/skopeo", ["inspect", "oci:\(store.path)/oci:busybox:1.35"])
            #expect(r.status == 0, "\(r.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            #expect(object?["Layers"] as? [String] == ["sha256:" + layer], "\(r.stdout)")
            #expect(object?["Os"] as? String == "linux")
        }

        @Test("umoci lists berth's tags", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/umoci"),
                                                  "needs umoci (apt-get install umoci)"))
        func umoci() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")
            #expect(try store.run(["--name", "umoci_box", "busybox:1.35", "touch", "/x"]).status == 0)
            #expect(try store.berth(["commit", "umoci_box", "me/x:v1"]).status == 0)
            let r = try Command.run("/usr/bin/umoci", ["ls", "--layout", store.path + "/oci"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(Set(r.output.split(separator: "\n").map(String.init)) == ["busybox:1.35", "me/x:v1"], "\(r.stdout)")
            let stat = try Command.run("/usr/bin/umoci", ["stat", "--image", store.path + "/oci:me/x:v1"])
            #expect(stat.status == 0, "\(stat.stderr)")
        }

        // MARK: - Depth

        @Test("a chain of 100 commits runs; each step stays fast")
        func deepImage() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let times = try store.commitChain(layers: 100)
            let top = try store.run(["--rm", "deep:100", "sh", "-c", "ls / | grep -c '^f'; cat /f2 /f100"])
            #expect(top.status == 0, "\(top.stderr)")
            #expect(top.stdout == "99\nf2\nf100\n", "\(top.stdout)")
            // The last steps run on 99 layers: they may cost more than the first, not 10 times more.
            let early = times.prefix(10).reduce(0, +), late = times.suffix(10).reduce(0, +)
            #expect(late < early * 10, "run+commit+rm: first 10 took \(early) s, last 10 \(late) s")
            #expect(store.containers.isEmpty)
            #expect(store.mounts().isEmpty)
        }

        // MARK: - save and load

        @Test("save writes an OCI and docker-compatible tar that load brings into another store")
        func saveAndLoad() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("busybox:1.35")
            #expect(try store.run(["--name", "greeter", "busybox:1.35", "sh", "-c", "echo hi > /greeting"]).status == 0)
            #expect(try store.berth(["commit", "-m", "add greeting", "greeter", "me/greeting:v1"]).status == 0)
            let tar = store.path + "-greeting.tar"
            defer { try? FileManager.default.removeItem(atPath: tar) }

            let save = try store.berth(["save", "me/greeting:v1", "-o", tar])
            try #require(save.status == 0, "\(save.stderr)")
            let entries = try Command.run("/bin/tar", ["-tf", tar]).stdout.split(separator: "\n")
                .map { $0.hasPrefix("./") ? String($0.dropFirst(2)) : String($0) }
            for name in ["oci-layout", "index.json", "manifest.json"] {
                #expect(entries.contains(name), "\(name) missing from \(entries)")
            }

            let other = try ImageStoreRoot(fixture)
            defer { other.destroy() }
            let load = try other.berth(["load", "-i", tar])
            #expect(load.status == 0, "\(load.stderr)")
            #expect(load.stdout.contains("me/greeting:v1"), "\(load.stdout)")
            #expect(try other.tags() == ["me/greeting:v1"])
            let history = table(try other.berth(["history", "me/greeting:v1"]).stdout)
            #expect(history.first?["COMMENT"] == "add greeting")
            let r = try other.run(["--rm", "me/greeting:v1", "cat", "/greeting"])
            #expect(r.stdout == "hi\n", "\(r.stderr)")
            #expect(other.consistencyProblems().isEmpty, "\(other.consistencyProblems())")
        }

        // MARK: - Crashes and concurrency

        @Test("commit, import, load and prune killed at random points leave a consistent store")
        func killedMidway() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let source = try store.busyboxCopy(files: ["big": String(repeating: "berth\n", count: 400_000)])
            #expect(try store.berth(["import", source, "base:1"]).status == 0)
            let work = try store.run(["--name", "source_box", "base:1", "sh", "-c",
                                      "dd if=/dev/urandom of=/noise bs=64k count=64 2>/dev/null"])
            try #require(work.status == 0, "\(work.stderr)")
            // An archive whose layers the store no longer has, so every load writes blobs anew
            // until one of them completes.
            let archive = store.path + "-saved.tar"
            defer { unlink(archive) }
            for step in [["commit", "source_box", "saved:1"], ["save", "saved:1", "-o", archive],
                         ["rmi", "saved:1"], ["image", "prune"]] {
                let r = try store.berth(step)
                try #require(r.status == 0, "\(step): \(r.stderr)")
            }

            let iterations = Host.inVM ? 30 : 45
            var killed = 0
            for i in 0..<iterations {
                let args: [String]
                switch i % 5 {
                case 0: args = ["commit", "source_box", "commit:\(i)"]
                case 1: args = ["import", source, "import:\(i)"]
                case 2: args = ["load", "-i", archive]
                case 3: args = ["commit", "source_box"]
                default: args = ["image", "prune"]
                }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: fixture.berth)
                process.arguments = ["--root", store.path] + args
                process.standardInput = FileHandle.nullDevice
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                // The random moment of the kill is the scenario, not a wait for a state.
                usleep(UInt32.random(in: 0...300_000))
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    killed += 1
                }
                process.waitUntilExit()
            }
            print("killed \(killed) of \(iterations) store operations midway")

            let next = try store.berth(["images", "-a"])
            #expect(next.status == 0, "\(next.stderr)")
            #expect(store.temporaries.isEmpty, "tmp/ after a crash: \(store.temporaries)")
            let problems = store.consistencyProblems()
            #expect(problems.isEmpty, "\(problems)")
            for tag in try store.tags() {
                let r = try store.run(["--rm", tag, "sh", "-c", "test -x /bin/busybox && wc -l < /big"])
                #expect(r.status == 0 && r.output == "400000", "\(tag): \(r.stdout) \(r.stderr)")
            }
            #expect(store.mounts().isEmpty)

            // Nothing the killed commands wrote leaks: with no container left, prune -a empties the store.
            #expect(try store.berth(["rm", "source_box"]).status == 0)
            let prune = try store.berth(["image", "prune", "-a"])
            #expect(prune.status == 0, "\(prune.stderr)")
            #expect(store.blobs.isEmpty, "\(store.blobs.count) blobs left")
            #expect(store.layers.isEmpty, "\(store.layers.count) layers left")
            #expect(store.temporaries.isEmpty)
        }

        @Test("concurrent commits, and a run during a prune, all succeed on a consistent store")
        func concurrentOperations() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            try store.importBusybox("base:1")
            for name in ["left_box", "right_box"] {
                let r = try store.run(["--name", name, "base:1", "sh", "-c", "echo \(name) > /who"])
                try #require(r.status == 0, "\(r.stderr)")
            }
            for _ in 0..<4 { #expect(try store.berth(["commit", "left_box"]).status == 0) }

            let lock = NSLock()
            nonisolated(unsafe) var results: [String: Command.Result] = [:]
            nonisolated(unsafe) var thrown: [String] = []
            let jobs: [(String, [String])] = [
                ("left", ["commit", "left_box", "left:1"]),
                ("right", ["commit", "right_box", "right:1"]),
            ]
            DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
                let (key, args) = jobs[index]
                do {
                    let r = try store.berth(args)
                    lock.withLock { results[key] = r }
                } catch {
                    lock.withLock { thrown.append("\(key): \(error)") }
                }
            }
            #expect(thrown.isEmpty, "\(thrown)")
            for key in ["left", "right"] {
                #expect(results[key]?.status == 0, "\(key): \(results[key]?.stderr ?? "")")
            }
            #expect(try store.tags() == ["base:1", "left:1", "right:1"])

            // A run of one image while prune removes the untagged ones.
            results = [:]
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                do {
                    let r = index == 0
                        ? try store.berth(["image", "prune"])
                        : try store.run(["--rm", "right:1", "cat", "/who"])
                    lock.withLock { results[index == 0 ? "prune" : "run"] = r }
                } catch {
                    lock.withLock { thrown.append("\(index): \(error)") }
                }
            }
            #expect(thrown.isEmpty, "\(thrown)")
            #expect(results["prune"]?.status == 0, "\(results["prune"]?.stderr ?? "")")
            #expect(results["run"]?.status == 0 && results["run"]?.stdout == "right_box\n",
                    "\(results["run"]?.stdout ?? "") \(results["run"]?.stderr ?? "")")
            #expect(try store.berth(["images", "-a", "-q"]).output.split(separator: "\n").count == 3)
            for (tag, who) in [("left:1", "left_box"), ("right:1", "right_box")] {
                #expect(try store.run(["--rm", tag, "cat", "/who"]).stdout == "\(who)\n")
            }
            #expect(store.temporaries.isEmpty)
            #expect(store.consistencyProblems().isEmpty, "\(store.consistencyProblems())")
            #expect(store.mounts().isEmpty)
        }
    }
}

extension Containers {
    /// The full-depth image: 500 layers built by 499 run+commit+rm cycles, then one more: about
    /// 55 s on an idle 2-core host (minutes under the VM's emulation), so it runs only when
    /// asked: .ci/test asks on the host. It sits in the serialized `Containers` suite like every
    /// test that runs containers: beside the others it would load the machine under their timing
    /// checks, and its containers' cgroups would show up in their leftover checks. Alone:
    /// `BERTH_DEEP_IMAGE=1 swift test --skip-build --filter IntegrationTests.Containers/DeepImage`.
    @Suite("Deep image",
           .enabled(if: ProcessInfo.processInfo.environment["BERTH_DEEP_IMAGE"] == "1",
                    "takes minutes: set BERTH_DEEP_IMAGE=1 and run it alone"))
    struct DeepImage {
        @Test("an image of 500 committed layers runs; 501 fails with overlayfs' limit named")
        func fiveHundredLayers() throws {
            let store = try ImageStoreRoot(Fixture.shared)
            defer { store.destroy() }
            try store.commitChain(layers: 501)
            let top = try store.run(["--rm", "deep:500", "sh", "-c", "ls / | grep -c '^f'; cat /f2 /f500"])
            #expect(top.status == 0, "\(top.stderr)")
            #expect(top.stdout == "499\nf2\nf500\n", "\(top.stdout)")
            let tooDeep = try store.run(["--rm", "deep:501", "true"])
            expectFailure(tooDeep, status: 125, mentioning: ["501", "500"])
            #expect(store.containers.isEmpty)
            #expect(store.mounts().isEmpty)
        }
    }
}

// MARK: - Helpers

/// Checks a failed command: its exit status, and exactly one stderr line `berth: ...` that
/// names every string in `mentioning`.
func expectFailure(_ r: Command.Result, status: Int32, mentioning: [String], _ context: String = "",
                   sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == status, "\(context): exit \(r.status), stderr \(r.stderr)", sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        .filter { !$0.isEmpty }
    #expect(lines.count == 1, "\(context): one stderr line, got \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.hasPrefix("berth: "), "\(context): \(r.stderr)", sourceLocation: sourceLocation)
    for word in mentioning {
        #expect(r.stderr.contains(word), "\(context): \(word) not in \(r.stderr)", sourceLocation: sourceLocation)
    }
}

/// Parses berth's table output into one dictionary per row: each column starts where its
/// header does (a cell may be empty, as ps's PORTS of a stopped container is).
func table(_ output: String) -> [[String: String]] {
    let lines = output.split(separator: "\n").map { Array(String($0)) }
    guard let header = lines.first else { return [] }
    var starts: [Int] = []
    for (i, c) in header.enumerated() where c != " " && (i == 0 || (i >= 2 && header[i - 1] == " " && header[i - 2] == " ")) {
        starts.append(i)
    }
    let names = starts.enumerated().map { k, start in
        String(header[start..<(k + 1 < starts.count ? starts[k + 1] : header.count)]).trimmingCharacters(in: .whitespaces)
    }
    return lines.dropFirst().map { line in
        var row: [String: String] = [:]
        for (k, start) in starts.enumerated() where start < line.count {
            let end = k + 1 < starts.count ? min(starts[k + 1], line.count) : line.count
            row[names[k]] = String(line[start..<end]).trimmingCharacters(in: .whitespaces)
        }
        return row
    }
}

/// One test's berth state root for the image commands: runs berth in it, reads its files, checks
/// its consistency, and removes it with everything in it.
struct ImageStoreRoot {
    let fixture: Fixture
    let path: String

    init(_ fixture: Fixture) throws {
        if let error = fixture.setupError { throw FixtureError(message: error) }
        self.fixture = fixture
        path = try fixture.makeStateRoot()
    }

    func berth(_ args: [String], stdin: String? = nil, timeout: Double = 60) throws -> Command.Result {
        try fixture.berth(args, root: path, stdin: stdin, timeout: timeout)
    }

    /// `berth run --cgroup-parent <the fixture's> ARGS...`.
    func run(_ args: [String], timeout: Double = 60) throws -> Command.Result {
        try berth(["run", "--cgroup-parent", fixture.cgroupParent] + args, timeout: timeout)
    }

    /// A private copy of the fixture's busybox root with `files` added (relative path: content).
    func busyboxCopy(files: [String: String] = [:]) throws -> String {
        let copy = path + "-source"
        let cp = try Command.run("/bin/cp", ["-a", fixture.rootfs, copy])
        guard cp.status == 0 else { throw FixtureError(message: "cp -a: \(cp.stderr)") }
        for (name, content) in files {
            let file = copy + "/" + name
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try content.write(toFile: file, atomically: false, encoding: .utf8)
        }
        return copy
    }

    func importBusybox(_ reference: String) throws {
        let r = try berth(["import", fixture.rootfs, reference])
        guard r.status == 0 else { throw FixtureError(message: "import: \(r.stderr)") }
    }

    private func entries(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/" + dir)) ?? []).sorted()
    }

    var blobs: [String] { entries("oci/blobs/sha256") }
    var layers: [String] { entries("layers") }
    /// Without the spare record directories kept for the next run --rootfs (`Kernel.containerEntries`).
    var containers: [String] { Kernel.containerEntries(path + "/containers").sorted() }
    var names: [String] { entries("container-names") }
    var temporaries: [String] { entries("tmp") }

    /// Every path under oci/ and layers/ with its type, mode, owner and size, to tell "unchanged".
    func listing() -> [String] {
        ["oci", "layers"].flatMap { top -> [String] in
            let base = path + "/" + top
            let children = FileManager.default.enumerator(atPath: base)?.compactMap { $0 as? String } ?? []
            return children.map { child in
                var st = stat()
                lstat(base + "/" + child, &st)
                // A directory's times change when a command makes and removes a temporary in it;
                // a file's mtime tells a rewrite.
                let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
                let time = isDirectory ? "" : " \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
                return "\(top)/\(child) \(st.st_mode) \(st.st_uid):\(st.st_gid) \(isDirectory ? 0 : st.st_size)" + time
            }.sorted()
        }
    }

    /// Lines of the host's mount table that mention this state root.
    func mounts() -> [String] {
        let table = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        return table.split(separator: "\n").map(String.init).filter { $0.contains(path) }
    }

    /// The tags in the store, sorted, from `images --format json`.
    func tags() throws -> [String] {
        let r = try berth(["images", "--format", "json"])
        guard r.status == 0 else { throw FixtureError(message: "images: \(r.stderr)") }
        return try r.output.split(separator: "\n").compactMap { line -> String? in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            guard let repository = object?["Repository"] as? String, let tag = object?["Tag"] as? String,
                  repository != "<none>" else { return nil }
            return repository + ":" + tag
        }.sorted()
    }

    /// The first object of `berth inspect REF`.
    func inspect(_ reference: String) throws -> [String: Any]? {
        let r = try berth(["inspect", reference])
        guard r.status == 0 else { throw FixtureError(message: "inspect: \(r.stderr)") }
        return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])?.first
    }

    private func blobJSON(_ digest: String) -> [String: Any]? {
        let hex = digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : digest
        guard let data = FileManager.default.contents(atPath: path + "/oci/blobs/sha256/" + hex) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    private var index: [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path + "/oci/index.json") else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    /// The layer digests (hex) of a tagged image, read from the OCI layout itself.
    func layerDigests(of reference: String) throws -> [String] {
        let manifests = index?["manifests"] as? [[String: Any]] ?? []
        let entry = manifests.first {
            ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == reference
        }
        guard let digest = entry?["digest"] as? String, let manifest = blobJSON(digest) else {
            throw FixtureError(message: "no manifest for \(reference) in index.json")
        }
        return (manifest["layers"] as? [[String: Any]] ?? []).compactMap { ($0["digest"] as? String)?.dropFirst(7) }
            .map(String.init)
    }

    /// What is wrong with the store: blobs whose content does not hash to their name, an
    /// index.json that does not parse, manifests, configs or layers the index reaches but the
    /// store lacks. Empty when the store is consistent.
    func consistencyProblems() -> [String] {
        var problems: [String] = []
        let names = blobs
        if !names.isEmpty {
            let dir = path + "/oci/blobs/sha256/"
            let sums = (try? Command.run("/usr/bin/sha256sum", names.map { dir + $0 }, timeout: 120))?.stdout ?? ""
            var hashed = 0
            for line in sums.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1)
                guard parts.count == 2 else { continue }
                hashed += 1
                let file = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " *"))
                if !file.hasSuffix("/" + parts[0]) { problems.append("blob \(file) hashes to \(parts[0])") }
            }
            if hashed != names.count { problems.append("sha256sum read \(hashed) of \(names.count) blobs") }
        }
        guard let index else { return problems + ["oci/index.json does not parse"] }
        if !FileManager.default.fileExists(atPath: path + "/oci/oci-layout") { problems.append("no oci-layout") }
        for entry in index["manifests"] as? [[String: Any]] ?? [] {
            guard let digest = entry["digest"] as? String, let manifest = blobJSON(digest) else {
                problems.append("index entry \(entry["digest"] ?? "?"): manifest missing or unreadable")
                continue
            }
            let config = (manifest["config"] as? [String: Any])?["digest"] as? String ?? "?"
            if blobJSON(config) == nil { problems.append("manifest \(digest): config \(config) missing") }
            for layer in manifest["layers"] as? [[String: Any]] ?? [] {
                let hex = String((layer["digest"] as? String ?? "?").dropFirst(7))
                if !names.contains(hex) { problems.append("manifest \(digest): layer \(hex) missing") }
            }
        }
        return problems
    }

    /// Builds deep:1 (the busybox root) up to deep:`layers` by run + commit + rm, each step
    /// touching /f<n>; returns each step's duration in seconds.
    @discardableResult
    func commitChain(layers: Int) throws -> [Double] {
        try importBusybox("deep:1")
        var times: [Double] = []
        let clock = ContinuousClock()
        for layer in 2...max(layers, 2) {
            let start = clock.now
            let name = "step_\(layer)"
            let ran = try run(["--name", name, "deep:\(layer - 1)", "sh", "-c", "echo f\(layer) > /f\(layer)"])
            guard ran.status == 0 else { throw FixtureError(message: "run at layer \(layer): \(ran.stderr)") }
            let commit = try berth(["commit", name, "deep:\(layer)"])
            guard commit.status == 0 else { throw FixtureError(message: "commit at layer \(layer): \(commit.stderr)") }
            let rm = try berth(["rm", name])
            guard rm.status == 0 else { throw FixtureError(message: "rm at layer \(layer): \(rm.stderr)") }
            let elapsed = clock.now - start
            times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        print("commit chain: \(layers) layers in \(String(format: "%.1f", times.reduce(0, +))) s")
        return times
    }

    /// Builds a tar that tries to escape the image (see `Images.hostileTars`), and its gzip.
    func hostileTar(_ kind: String, token: String) throws -> String {
        let script = path + "-hostile.py"
        let tar = path + "-\(kind).tar"
        try """
            import gzip, io, shutil, sys, tarfile
            kind, out, token = sys.argv[1], sys.argv[2], sys.argv[3]
            with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
                def add(name, data=b"evil\\n", **fields):
                    info = tarfile.TarInfo(name.replace("TOKEN", token))
                    for key, value in fields.items():
                        setattr(info, key, value)
                    if info.type == tarfile.REGTYPE:
                        info.size = len(data)
                        t.addfile(info, io.BytesIO(data))
                    else:
                        t.addfile(info)
                add("harmless.txt", b"fine\\n")
                if kind == "dotdot": add("../TOKEN")
                if kind == "deep-dotdot": add("../../../TOKEN")
                if kind == "absolute": add("/etc/TOKEN")
                if kind == "symlink-root":
                    add("link", type=tarfile.SYMTYPE, linkname="/")
                    add("link/etc/TOKEN")
                if kind == "symlink-up":
                    add("up", type=tarfile.SYMTYPE, linkname="../../..")
                    add("up/TOKEN")
                if kind == "hardlink": add("hardlinked-passwd", type=tarfile.LNKTYPE, linkname="/etc/passwd")
                if kind == "hardlink-up": add("hardlinked-target", type=tarfile.LNKTYPE, linkname="../../../TOKEN-target")
                if kind == "device": add("null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
            with open(out, "rb") as src, gzip.open(out + ".gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            """.write(toFile: script, atomically: false, encoding: .utf8)
        let r = try Command.run("/usr/bin/python3", [script, kind, tar, token])
        guard r.status == 0 else { throw FixtureError(message: "building \(kind).tar: \(r.stderr)") }
        return tar
    }

    /// Removes every container (berth rm -f), detaches whatever is still mounted under the root
    /// (a failed test must not leave the host with mounts), and deletes the root and its siblings.
    func destroy() {
        if let ids = try? berth(["ps", "-a", "-q", "--no-trunc"]).output.split(separator: "\n").map(String.init),
           !ids.isEmpty {
            _ = try? berth(["rm", "-f"] + ids)
        }
        for line in mounts().reversed() {
            let fields = line.split(separator: " ")
            if fields.count > 4 { umount2(String(fields[4]), Int32(MNT_DETACH)) }
        }
        let parent = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        where entry == base || entry.hasPrefix(base + "-") {
            try? FileManager.default.removeItem(atPath: parent + "/" + entry)
        }
    }
}
