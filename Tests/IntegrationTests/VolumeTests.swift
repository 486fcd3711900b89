import Foundation
import Synchronization
import Testing

extension Containers {
    /// Volumes end to end (issue 13): named and anonymous volumes, copy-up from the image,
    /// `--mount`, `--tmpfs`, `berth volume …`, `rm -v`, and what diff and commit leave out. Each
    /// test has its own state root (`ImageStoreRoot`), removed with its volumes at the end.
    @Suite("Volumes")
    struct Volumes {
        let fixture = Fixture.shared

        /// A state root with busybox:1 (the fixture's root) and app:1, which has /srv/app: a
        /// directory of mode 0750 owned by 1000:1000 holding a file (0640, 1000:1000, an old
        /// mtime), a subdirectory and a link; app:1's config declares VOLUME /srv/app.
        static func root(_ fixture: Fixture) throws -> ImageStoreRoot {
            let store = try ImageStoreRoot(fixture)
            try addImages(store)
            return store
        }

        static func addImages(_ store: ImageStoreRoot) throws {
            try store.importBusybox("busybox:1")
            let source = try store.busyboxCopy(files: ["srv/app/config": "from the image\n", "srv/app/sub/data": "deep\n"])
            chown(source + "/srv/app", 1000, 1000)
            chmod(source + "/srv/app", 0o750)
            chown(source + "/srv/app/config", 1000, 1000)
            chmod(source + "/srv/app/config", 0o640)
            var times = [timespec(tv_sec: 1_234_567_890, tv_nsec: 0), timespec(tv_sec: 1_234_567_890, tv_nsec: 0)]
            utimensat(AT_FDCWD, source + "/srv/app/config", &times, 0)
            symlink("/etc/passwd", source + "/srv/app/passwd-link")
            let plain = try store.berth(["import", source, "app:1"])
            guard plain.status == 0 else { throw FixtureError(message: "import: \(plain.stderr)") }
            let declared = try store.berth(["import", "--change", "VOLUME /srv/app", source, "appvol:1"])
            guard declared.status == 0 else { throw FixtureError(message: "import: \(declared.stderr)") }
        }

        /// The volumes' names, from `volume ls -q`.
        static func volumeNames(_ store: ImageStoreRoot) throws -> [String] {
            let r = try store.berth(["volume", "ls", "-q"])
            guard r.status == 0 else { throw FixtureError(message: "volume ls: \(r.stderr)") }
            return r.stdout.split(separator: "\n").map(String.init)
        }

        /// What `volumes/` holds besides the store's lock: volumes, and any leftover temporaries.
        static func volumeDirectory(_ store: ImageStoreRoot) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: store.path + "/volumes")) ?? []).filter { $0 != ".lock" }.sorted()
        }

        static func mounts(_ store: ImageStoreRoot, _ container: String) throws -> [[String: Any]] {
            try store.inspect(container)?["Mounts"] as? [[String: Any]] ?? []
        }

        // MARK: - the volume commands

        @Test("volume create, ls, inspect, rm and prune, as Docker's")
        func commands() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let made = try store.berth(["volume", "create", "--label", "team=db", "pgdata"])
            #expect(made.status == 0 && made.output == "pgdata", "\(made.stderr)")
            let generated = try store.berth(["volume", "create"])
            #expect(generated.status == 0)
            #expect(generated.output.wholeMatch(of: /[0-9a-f]{64}/) != nil, "\(generated.output)")
            let again = try store.berth(["volume", "create", "pgdata"])
            #expect(again.status == 0 && again.output == "pgdata", "creating an existing volume gives it back")

            let listed = try store.berth(["volume", "ls"])
            let lines = listed.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
            #expect(lines.first == ["DRIVER", "VOLUME", "NAME"])
            #expect(Set(lines.dropFirst().map { $0.map(String.init) }) == [["local", "pgdata"], ["local", generated.output]])
            #expect(try Self.volumeNames(store).sorted() == [generated.output, "pgdata"].sorted())

            let inspected = try store.berth(["volume", "inspect", "pgdata"])
            #expect(inspected.status == 0)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [[String: Any]])
            let volume = try #require(document.first)
            #expect(Set(volume.keys) == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"])
            #expect(volume["Name"] as? String == "pgdata" && volume["Driver"] as? String == "local")
            #expect(volume["Scope"] as? String == "local" && (volume["Labels"] as? [String: String]) == ["team": "db"])
            #expect(volume["Mountpoint"] as? String == store.path + "/volumes/pgdata/_data")
            #expect((volume["CreatedAt"] as? String)?.hasPrefix("20") == true)

            // A named volume stays through prune; with --all it goes, and its bytes are counted.
            try "x".write(toFile: store.path + "/volumes/pgdata/_data/f", atomically: false, encoding: .utf8)
            let pruned = try store.berth(["volume", "prune", "-f"])
            #expect(pruned.status == 0 && pruned.stdout == "Total reclaimed space: 0B\n", "\(pruned.stdout)")
            let all = try store.berth(["volume", "prune", "-a", "-f"])
            #expect(all.status == 0)
            #expect(all.stdout.hasPrefix("Deleted Volumes:\n"), "\(all.stdout)")
            #expect(all.stdout.contains("\npgdata\n") && all.stdout.contains("\n" + generated.output + "\n"))
            #expect(all.stdout.contains("Total reclaimed space: 4"), "one block of 4 kB: \(all.stdout)")
            #expect(try Self.volumeNames(store).isEmpty)

            let missing = try store.berth(["volume", "rm", "pgdata"])
            expectFailure(missing, status: 1, mentioning: ["no such volume: pgdata"])
            let forced = try store.berth(["volume", "rm", "-f", "pgdata"])
            #expect(forced.status == 0, "-f: a volume that is not there is already removed")
            #expect(Self.volumeDirectory(store).isEmpty)
        }

        // MARK: - using volumes

        @Test("a named volume keeps what one container wrote for the next; rm -v leaves it")
        func reuse() throws {
            let store = try Self.root(fixture)
            defer { store.destroy() }
            // A directory of its own: other tests bind volumes at /data in the shared fixture root.
            let first = try store.run(["--name", "writer", "busybox:1", "sh", "-c", "echo kept > /kept-notes/note"])
            let write = try store.run(["--name", "writer2", "-v", "notes:/kept-notes", "busybox:1", "sh", "-c",
                                       "echo kept > /kept-notes/note"])
            #expect(first.status != 0, "without the volume /kept-notes does not exist")
            #expect(write.status == 0, "\(write.stderr)")
            #expect(try Self.volumeNames(store) == ["notes"], "made on first use")
            let read = try store.run(["--rm", "--mount", "type=volume,src=notes,dst=/elsewhere", "busybox:1", "cat", "/elsewhere/note"])
            #expect(read.status == 0 && read.stdout == "kept\n", "\(read.stderr)")
            let mounts = try Self.mounts(store, "writer2")
            #expect(mounts.count == 1)
            #expect(mounts.first?["Type"] as? String == "volume" && mounts.first?["Name"] as? String == "notes")
            #expect(mounts.first?["Source"] as? String == store.path + "/volumes/notes/_data")
            #expect(mounts.first?["Destination"] as? String == "/kept-notes" && mounts.first?["RW"] as? Bool == true)
            #expect(mounts.first?["Driver"] as? String == "local")
            #expect(try store.berth(["rm", "-v", "writer2", "writer"]).status == 0)
            #expect(try Self.volumeNames(store) == ["notes"], "rm -v never removes a named volume")
        }

        @Test("a new volume is filled with the image's files, owners, modes, times and links; nocopy leaves it empty")
        func copyUp() throws {
            let store = try Self.root(fixture)
            defer { store.destroy() }
            let script = "stat -c '%u:%g %a %Y' /srv/app /srv/app/config; cat /srv/app/config /srv/app/sub/data; readlink /srv/app/passwd-link"
            let r = try store.run(["--rm", "-v", "appdata:/srv/app", "app:1", "sh", "-c", script])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 5, "\(r.stdout)")
            #expect(lines.first?.hasPrefix("1000:1000 750 ") == true, "\(r.stdout)")
            #expect(lines.dropFirst().first == "1000:1000 640 1234567890", "\(r.stdout)")
            #expect(Array(lines.dropFirst(2)) == ["from the image", "deep", "/etc/passwd"])
            var st = stat()
            #expect(lstat(store.path + "/volumes/appdata/_data/config", &st) == 0 && st.st_uid == 1000 && st.st_mode & 0o7777 == 0o640)

            // Not empty any more: a second container sees its own changes, not a new copy.
            let changed = try store.run(["--rm", "-v", "appdata:/srv/app", "app:1", "sh", "-c",
                                         "rm /srv/app/config && echo mine > /srv/app/mine"])
            #expect(changed.status == 0)
            let again = try store.run(["--rm", "-v", "appdata:/srv/app", "app:1", "ls", "/srv/app"])
            #expect(again.stdout == "mine\npasswd-link\nsub\n", "\(again.stdout)")

            for flag in [["-v", "bare:/srv/app:nocopy"], ["--mount", "type=volume,src=bare2,dst=/srv/app,volume-nocopy"]] {
                let empty = try store.run(["--rm"] + flag + ["app:1", "ls", "-A", "/srv/app"])
                #expect(empty.status == 0 && empty.stdout.isEmpty, "\(flag): \(empty.stdout)")
            }
        }

        @Test("an image's VOLUME gets an anonymous volume with the image's files; rm -v and run --rm remove it, named ones stay")
        func anonymousVolumes() throws {
            let store = try Self.root(fixture)
            defer { store.destroy() }
            let r = try store.run(["--name", "declared", "-v", "named:/named", "-v", "/scratch", "appvol:1",
                                   "sh", "-c", "cat /srv/app/config; echo hi > /scratch/f"])
            #expect(r.status == 0 && r.stdout == "from the image\n", "\(r.stderr)")
            let mounts = try Self.mounts(store, "declared")
            let byDestination = Dictionary(uniqueKeysWithValues: mounts.compactMap { m in (m["Destination"] as? String).map { ($0, m) } })
            #expect(Set(byDestination.keys) == ["/named", "/scratch", "/srv/app"], "\(mounts)")
            for anonymous in ["/scratch", "/srv/app"] {
                #expect(byDestination[anonymous]?["Type"] as? String == "volume")
                #expect((byDestination[anonymous]?["Name"] as? String)?.wholeMatch(of: /[0-9a-f]{64}/) != nil)
            }
            #expect(try Self.volumeNames(store).count == 3)

            // A mount at the VOLUME's path replaces the anonymous volume.
            let covered = try store.run(["--rm", "-v", "covering:/srv/app", "appvol:1", "cat", "/srv/app/config"])
            #expect(covered.status == 0 && covered.stdout == "from the image\n")
            #expect(try Self.volumeNames(store).count == 4, "the --rm container's named volume stays, it made no other")

            let removed = try store.berth(["rm", "-v", "declared"])
            #expect(removed.status == 0, "\(removed.stderr)")
            #expect(try Self.volumeNames(store).sorted() == ["covering", "named"])

            let temporary = try store.run(["--rm", "appvol:1", "true"])
            #expect(temporary.status == 0)
            let detached = try store.run(["-d", "--rm", "-v", "/gone", "busybox:1", "true"])
            #expect(detached.status == 0)
            let ended = eventually(within: 20, poll: 0.1) { (try? Self.volumeNames(store).sorted()) == ["covering", "named"] }
            #expect(ended, "the anonymous volumes of --rm containers go with them: \((try? Self.volumeNames(store)) ?? [])")
            #expect(Self.volumeDirectory(store) == ["covering", "named"])
        }

        @Test("--userns=auto: a new volume is the container root's, and copy-up maps the image's owners",
              .enabled(if: !Host.inVM || Fixture.userNamespacesUnavailable == nil,
                       "needs idmapped mounts on the test directory, which the VM's does not support"))
        func userNamespace() throws {
            let root = try UsernsRoot(fixture)
            defer { root.destroy() }
            try Self.addImages(root.store)
            let r = try root.berth(["run", "--rm", "--cgroup-parent", fixture.cgroupParent, "--userns=auto",
                                    "-v", "fresh:/fresh", "-v", "appdata:/srv/app", "app:1", "sh", "-c",
                                    "touch /fresh/x && stat -c %u:%g /fresh/x /srv/app/config && echo more >> /srv/app/config"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == "0:0\n1000:1000\n", "\(r.stdout)")
            let first = UserNamespaces.berthFirst
            var st = stat()
            #expect(lstat(root.store.path + "/volumes/fresh/_data", &st) == 0 && st.st_uid == first && st.st_gid == first)
            #expect(lstat(root.store.path + "/volumes/appdata/_data/config", &st) == 0 && st.st_uid == first + 1000)
        }

        @Test("a --rm container whose berth was killed: the next ps removes it and its anonymous volume")
        func killedRunsVolumes() throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: fixture.berth)
            process.arguments = ["--root", store.path, "run", "--cgroup-parent", fixture.cgroupParent, "--rootfs", fixture.rootfs,
                                 "-v", "/anonymous", "-v", "named:/named", "--", "/bin/payload", "trap"]
            let out = Pipe()
            process.standardOutput = out
            process.standardInput = FileHandle.nullDevice
            try process.run()
            _ = out.fileHandleForReading.availableData   // "ready": the container runs
            #expect(try Self.volumeNames(store).count == 2)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let gone = try eventually(within: 20, poll: 0.1) {
                _ = try store.berth(["ps", "-a"])
                return try Self.volumeNames(store) == ["named"]
            }
            #expect(gone, "\((try? Self.volumeNames(store)) ?? [])")
            #expect(store.containers.isEmpty)
        }

        // MARK: - tmpfs, read-only, binds

        @Test("--tmpfs and --mount type=tmpfs: the size is enforced, the mode and noexec set")
        func tmpfs() throws {
            let store = try Self.root(fixture)
            defer { store.destroy() }
            let script = "stat -c %a /t /m; grep -E ' /(t|m) ' /proc/mounts; "
                + "dd if=/dev/zero of=/t/fill bs=1024 count=256 2>/dev/null; echo t=$?; "
                + "dd if=/dev/zero of=/m/fill bs=1024 count=64 2>/dev/null; echo m=$?"
            let r = try store.run(["--rm", "--tmpfs", "/t:size=128k,mode=1770",
                                   "--mount", "type=tmpfs,dst=/m,tmpfs-size=32768,tmpfs-mode=700", "busybox:1", "sh", "-c", script])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            #expect(lines.prefix(2) == ["1770", "700"], "\(r.stdout)")
            let t = lines.first { $0.contains(" /t ") } ?? ""
            #expect(t.contains("size=128k") && t.contains("noexec") && t.contains("nosuid") && t.contains("nodev"), "\(t)")
            #expect(lines.contains("t=1"), "writing 256k into 128k fails: \(r.stdout)")
            #expect(lines.contains("m=1"), "writing 64k into 32k fails: \(r.stdout)")
            #expect(store.mounts().isEmpty)
        }

        @Test("read-only mounts refuse writes: --mount readonly, -v :ro")
        func readOnly() throws {
            let store = try Self.root(fixture)
            defer { store.destroy() }
            let host = store.path + "-bind"
            try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
            let r = try store.run(["--rm", "--mount", "type=volume,src=ro1,dst=/v,readonly", "--mount", "type=bind,src=\(host),dst=/b,ro",
                                   "-v", "ro2:/w:ro", "busybox:1", "sh", "-c",
                                   "for d in /v /b /w; do touch $d/x 2>/dev/null && echo $d=written || echo $d=refused; done"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == "/v=refused\n/b=refused\n/w=refused\n", "\(r.stdout)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: host).isEmpty)
        }

        @Test("bind-propagation: a shared bind is shared in the container's mount table, a default one private")
        func propagation() throws {
            let store = try Self.root(fixture)
            defer { store.destroy() }
            let host = store.path + "-bind"
            try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
            let r = try store.run(["--rm", "--mount", "type=bind,src=\(host),dst=/shared,bind-propagation=rshared",
                                   "-v", host + ":/private", "busybox:1", "grep", "-E", " /(shared|private) ", "/proc/self/mountinfo"])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2, "\(r.stdout)")
            #expect(lines.first { $0.contains(" /shared ") }?.contains(" shared:") == true, "\(r.stdout)")
            #expect(lines.first { $0.contains(" /private ") }?.contains("shared:") == false, "\(r.stdout)")
        }

        @Test("a missing bind source: -v makes the directory, --mount refuses it")
        func missingBindSource() throws {
            let store = try Self.root(fixture)
            defer { store.destroy() }
            let made = store.path + "-made/deep"
            let r = try store.run(["--rm", "-v", made + ":/m", "busybox:1", "sh", "-c", "echo in > /m/f"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try String(contentsOfFile: made + "/f", encoding: .utf8) == "in\n")
            let refused = store.path + "-refused"
            let m = try store.run(["--rm", "--mount", "type=bind,src=\(refused),dst=/m", "busybox:1", "true"])
            expectFailure(m, status: 125, mentioning: ["bind source path does not exist: \(refused)"])
            #expect(!FileManager.default.fileExists(atPath: refused))
            #expect(store.containers.isEmpty)
        }

        // MARK: - in use, races, bad input

        @Test("volume rm refuses a volume a container uses, running or stopped, naming the container")
        func inUse() throws {
            let store = try Self.root(fixture)
            defer { store.destroy() }
            #expect(try store.run(["--name", "stopped_one", "-v", "held:/d", "busybox:1", "true"]).status == 0)
            let running = try store.run(["-d", "--name", "running_one", "-v", "busy:/d", "busybox:1", "sleep", "60"])
            #expect(running.status == 0, "\(running.stderr)")
            for (volume, container) in [("held", "stopped_one"), ("busy", "running_one")] {
                for force in [false, true] {
                    let r = try store.berth(["volume", "rm"] + (force ? ["-f"] : []) + [volume])
                    expectFailure(r, status: 1, mentioning: ["volume \(volume) is in use", container])
                }
            }
            let pruned = try store.berth(["volume", "prune", "-a", "-f"])
            #expect(pruned.stdout == "Total reclaimed space: 0B\n", "\(pruned.stdout)")
            #expect(try store.berth(["rm", "-f", "stopped_one", "running_one"]).status == 0)
            let r = try store.berth(["volume", "rm", "held", "busy"])
            #expect(r.status == 0 && r.stdout == "held\nbusy\n", "\(r.stderr)")
            #expect(Self.volumeDirectory(store).isEmpty)
        }

        @Test("four runs making one new volume at once all succeed, with one volume, copied once")
        func concurrentCreation() throws {
            let store = try Self.root(fixture)
            defer { store.destroy() }
            let results = Mutex<[Command.Result?]>([nil, nil, nil, nil])
            DispatchQueue.concurrentPerform(iterations: 4) { i in
                let r = try? store.run(["--rm", "-v", "raced:/srv/app", "app:1", "sh", "-c", "echo \(i) >> /srv/app/runs; cat /srv/app/config"],
                                       timeout: 120)
                results.withLock { $0[i] = r }
            }
            let all = results.withLock { $0 }
            for (i, r) in all.enumerated() {
                #expect(r?.status == 0 && r?.stdout == "from the image\n", "run \(i): \(r?.stderr ?? "no result")")
            }
            #expect(Self.volumeDirectory(store) == ["raced"], "one volume, no temporaries: \(Self.volumeDirectory(store))")
            let runs = try String(contentsOfFile: store.path + "/volumes/raced/_data/runs", encoding: .utf8)
            #expect(runs.split(separator: "\n").sorted() == ["0", "1", "2", "3"], "every run wrote to the one volume: \(runs)")
            let entries = try FileManager.default.contentsOfDirectory(atPath: store.path + "/volumes/raced").sorted()
            #expect(entries == ["_data", "volume.json"], "\(entries)")
        }

        /// Bad mount flags: exit 125, one line naming the problem, and nothing made.
        @Test("bad mount flags fail with one line and make nothing", arguments: [
            (["--mount", "type=bind,src=/tmp,dst=/d,colour=red"], "unknown key \"colour\""),
            (["--mount", "type=bind,src=/tmp"], "no target"),
            (["--mount", "type=bind,src=/tmp,dst=/d,tmpfs-size=1m"], "tmpfs-size is for a mount of type tmpfs"),
            (["--mount", "type=tmpfs,dst=/d,volume-nocopy"], "volume-nocopy is for a mount of type volume"),
            (["-v", "Bad!:/d"], "not a volume name"),
            (["-v", "./relative:/d"], "a host path must be absolute"),
            (["-v", "a1:/d:ro:x"], "too many colons"),
            (["-v", "a1:/d:rx"], "unknown mode \"rx\""),
            (["--tmpfs", "relative"], "must be absolute"),
            (["-v", "a1:/d", "--tmpfs", "/d"], "duplicate mount point"),
        ])
        func badInput(flags: [String], words: String) throws {
            let store = try Self.root(fixture)
            defer { store.destroy() }
            let r = try store.run(flags + ["busybox:1", "true"])
            expectFailure(r, status: 125, mentioning: [words])
            #expect(Self.volumeDirectory(store).isEmpty)
            #expect(store.containers.isEmpty)
            let created = try store.berth(["volume", "create", "-bad"])
            #expect(created.status != 0)
            let bad = try store.berth(["volume", "create", "x"])
            expectFailure(bad, status: 125, mentioning: ["invalid volume name \"x\""])
            #expect(Self.volumeDirectory(store).isEmpty)
        }

        // MARK: - diff and commit

        @Test("diff and commit leave out what is in a volume; the mount point itself shows, as with Docker")
        func diffAndCommit() throws {
            let store = try Self.root(fixture)
            defer { store.destroy() }
            let r = try store.run(["--name", "changer", "-v", "kept:/srv/app", "-v", "fresh:/fresh", "app:1", "sh", "-c",
                                   "echo v > /srv/app/inside; echo v > /fresh/inside; echo o > /outside"])
            #expect(r.status == 0, "\(r.stderr)")
            let diff = try store.berth(["diff", "changer"])
            #expect(diff.status == 0)
            let lines = Set(diff.stdout.split(separator: "\n").map(String.init))
            #expect(lines == ["A /outside", "A /fresh"], "\(diff.stdout)")
            #expect(try store.berth(["commit", "changer", "changed:1"]).status == 0)
            let look = try store.run(["--rm", "changed:1", "sh", "-c", "cat /outside; ls -A /fresh; ls /srv/app"])
            #expect(look.status == 0)
            #expect(look.stdout == "o\nconfig\npasswd-link\nsub\n", "\(look.stdout)")
        }
    }
}
