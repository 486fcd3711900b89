import Foundation
import Testing

/// The everyday commands of issue 14: create and start, wait, rename, export, version and info
/// here; top, update and info's cgroup facts (which depend on the cgroup version) in
/// `EverydayCgroupCommandTests.swift`.
extension LifecycleRoot {
    /// `berth create` of busybox under the fixture's cgroup parent; the container's full id.
    func create(_ options: [String], _ command: [String]) throws -> String {
        let r = try berth(["create", "--cgroup-parent", fixture.cgroupParent] + options + [Self.image] + command)
        guard r.status == 0, r.output.wholeMatch(of: /[0-9a-f]{64}/) != nil else {
            throw FixtureError(message: "create \(command) exited \(r.status): \(r.stdout) \(r.stderr)")
        }
        return r.output
    }

    /// `berth wait NAME` to its end: the exit code it printed.
    func waitForExit(_ name: String, timeout: Double = 30) throws -> String {
        let r = try berth(["wait", name], timeout: timeout)
        guard r.status == 0 else { throw FixtureError(message: "wait \(name) exited \(r.status): \(r.stderr)") }
        return r.output
    }

    /// The names in the state root's container-names directory.
    var reservedNames: [String] { Kernel.entries(namesDirectory).sorted() }
}

extension Containers {
    @Suite("CreateAndWait")
    struct CreateAndWait {
        let fixture = Fixture.shared

        @Test("create makes a Created container that start runs detached; wait blocks for its end and prints the code")
        func createStartWait() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let id = try root.create(["--name", "made", "-e", "CODE=3"], ["sh", "-c", "sleep 0.5; exit $CODE"])
            #expect(try root.status("made") == "Created")
            #expect(try root.state("made")["Status"] as? String == "created")
            #expect(try root.inspect("made")["Id"] as? String == id)

            // wait on a created container blocks until it has started and ended.
            let waiting = try StreamingCommand(fixture.berth, ["--root", root.path, "wait", "made"])
            #expect(holds(for: 0.5) { waiting.isRunning }, "wait returned before the container started: \(waiting.stdout)")
            let start = try root.berth(["start", "made"])
            #expect(start.status == 0 && start.output == "made", "\(start.stderr)")
            #expect(waiting.wait(seconds: 20), "wait did not return after the container's end")
            #expect(waiting.status == 0, "\(waiting.stderr)")
            #expect(waiting.stdout == "3\n")
            #expect(try root.status("made")?.hasPrefix("Exited (3)") == true)
            // An exited container: its code at once.
            let again = try root.berth(["wait", "made"], timeout: 5)
            #expect(again.status == 0 && again.stdout == "3\n", "\(again.stderr)")
        }

        @Test("wait for running containers: each code on its own line, in order; an unknown one is an error line")
        func waitForRunning() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "seven"], ["sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.05; done"])
            _ = try root.runDetached(["--name", "quick"], ["sh", "-c", "exit 4"])
            #expect(try root.waitForExit("quick") == "4")
            let waiting = try StreamingCommand(fixture.berth, ["--root", root.path, "wait", "seven", "ghost", "quick"])
            #expect(holds(for: 0.5) { waiting.isRunning }, "wait returned while the container runs: \(waiting.stdout)")
            #expect(try root.berth(["stop", "seven"]).status == 0)
            #expect(waiting.wait(seconds: 20))
            #expect(waiting.status == 1)
            #expect(waiting.stdout == "7\n4\n")
            #expect(waiting.stderr == "berth: no such container: ghost\n")

            let usage = try root.berth(["wait"])
            #expect(usage.status == 125 && usage.stderr == "berth: wait needs at least one container name or id\n")
        }

        @Test("create refuses bad input with run's sentences and makes nothing")
        func createRefusesBadInput() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.create(["--name", "taken"], ["true"])
            let cases: [([String], String)] = [
                (["create"], "berth: no image given"),
                (["create", "-d", LifecycleRoot.image], "berth: unknown option \"-d\" for berth create"),
                (["create", "--rootfs", fixture.rootfs, "--", "true"], "berth: unknown option \"--rootfs\" for berth create"),
                (["create", "--name", "-bad", LifecycleRoot.image, "true"], "berth: invalid container name \"-bad\""),
                (["create", "--name", "taken", LifecycleRoot.image, "true"], "berth: the container name \"taken\" is already in use"),
                (["create", "--pids-limit", "0", LifecycleRoot.image], "berth: --pids-limit must be at least 1"),
                // --pull never: a missing image is otherwise pulled, from Docker Hub for this name.
                (["create", "--pull", "never", "no/such:image"], "berth: "),
            ]
            for (arguments, start) in cases {
                let r = try root.berth(arguments)
                #expect(r.status == 125, "\(arguments): \(r.status) \(r.stderr)")
                #expect(r.stderr.hasPrefix(start) && r.stderr.split(separator: "\n").count == 1, "\(arguments): \(r.stderr)")
            }
            #expect(try root.list().count == 1, "a refused create left a container")
            #expect(root.reservedNames == ["taken"])
            let help = try root.berth(["create", "--help"])
            #expect(help.status == 0 && help.stdout.contains("USAGE: berth create [OPTIONS] IMAGE"))
            #expect(!help.stdout.contains("--detach") && !help.stdout.contains("--rootfs"))
        }
    }

    @Suite("Rename")
    struct Rename {
        let fixture = Fixture.shared

        @Test("rename of a running and of a stopped container: the record and the names directory follow")
        func renameRunningAndStopped() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let id = try root.runDetached(["--name", "old"], Containers.Pause.politeForever)
            let r = try root.berth(["rename", "old", "new"])
            #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stderr)")
            #expect(try root.status("new")?.hasPrefix("Up ") == true)
            #expect(try root.inspect("new")["Id"] as? String == id)
            #expect(try root.inspect(id)["Name"] as? String == "/new" || (try root.inspect(id)["Name"] as? String) == "new")
            #expect(root.reservedNames == ["new"])
            let old = try root.berth(["top", "old"])
            #expect(old.status == 1 && old.stderr == "berth: no such container: old\n", "\(old.stderr)")
            #expect(try root.berth(["exec", "new", "true"]).status == 0)
            // The monitor records the end under the new name.
            #expect(try root.berth(["stop", "new"]).status == 0)
            #expect(try root.status("new")?.hasPrefix("Exited (0)") == true)

            #expect(try root.berth(["rename", id.prefix(12).description, "newer"]).status == 0)
            #expect(try root.status("newer")?.hasPrefix("Exited (0)") == true)
            #expect(root.reservedNames == ["newer"])
            // And it starts again under it.
            #expect(try root.berth(["start", "newer"]).status == 0)
            #expect(try root.status("newer")?.hasPrefix("Up ") == true)
        }

        @Test("rename refuses a taken name, a bad name, the same name and an unknown container, and changes nothing")
        func renameRefuses() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let first = try root.create(["--name", "first"], ["true"])
            let second = try root.create(["--name", "second"], ["true"])
            let taken = try root.berth(["rename", "first", "second"])
            #expect(taken.status == 1)
            #expect(taken.stderr == "berth: the container name \"second\" is already in use by \(second.prefix(12)): "
                + "remove that container (berth rm second) or choose another name\n", "\(taken.stderr)")
            let bad = try root.berth(["rename", "first", "no/slash"])
            #expect(bad.status == 1 && bad.stderr.hasPrefix("berth: invalid container name \"no/slash\""), "\(bad.stderr)")
            let same = try root.berth(["rename", "first", "first"])
            #expect(same.status == 1 && same.stderr == "berth: container first is already named first: give another name\n")
            let ghost = try root.berth(["rename", "ghost", "spirit"])
            #expect(ghost.status == 1 && ghost.stderr == "berth: no such container: ghost\n")
            let usage = try root.berth(["rename", "first"])
            #expect(usage.status == 125 && usage.stderr.hasPrefix("berth: rename takes a container and its new name"))
            #expect(root.reservedNames == ["first", "second"])
            #expect(try root.inspect("first")["Id"] as? String == first)
        }
    }

    @Suite("Export")
    struct Export {
        let fixture = Fixture.shared

        /// The names in a tar file, without a leading "./".
        static func names(_ tar: String) throws -> [String] {
            let r = try Command.run("/bin/tar", ["-tf", tar])
            guard r.status == 0 else { throw FixtureError(message: "tar -tf \(tar): \(r.stderr)") }
            return r.stdout.split(separator: "\n").map { $0.hasPrefix("./") ? String($0.dropFirst(2)) : String($0) }
        }

        static func contents(_ tar: String, _ member: String) throws -> String {
            try Command.run("/bin/tar", ["-xOf", tar, member]).stdout
        }

        @Test("export merges the image and the container's layer: new files in, deleted ones out, opaque dirs applied")
        func exportMergesLayers() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let changes = "echo hi > /new && rm /bin/payload && echo changed > /etc/hostname.txt && "
                + "rm -rf /home && mkdir /home && echo only > /home/only"
            _ = try root.runDetached(["--name", "changed"], ["sh", "-c", changes])
            #expect(try root.waitForExit("changed") == "0")
            let tar = root.path + "/changed.tar"
            let r = try root.berth(["export", "-o", tar, "changed"])
            #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stderr)")
            let names = try Self.names(tar)
            #expect(names.contains("new") && names.contains("bin/busybox") && names.contains("bin/sh"))
            #expect(!names.contains("bin/payload"), "a deleted file was exported")
            #expect(names.filter { $0.hasPrefix("home/") && $0 != "home/" } == ["home/only"],
                    "the opaque directory shows the image's files: \(names.filter { $0.hasPrefix("home") })")
            #expect(!names.contains { $0.contains(".wh.") || $0.hasPrefix("upper") || $0.hasPrefix("work") })
            #expect(Set(names).count == names.count, "a path was written twice")
            #expect(try Self.contents(tar, "new") == "hi\n")
            #expect(try Self.contents(tar, "etc/hostname.txt") == "changed\n")
            #expect(Kernel.entries(root.path).filter { $0.contains("berth-export") }.isEmpty)

            // The same tar on stdout.
            let piped = root.path + "/piped.tar"
            let out = try Spawned(fixture.berth, ["--root", root.path, "export", "changed"], stdout: piped,
                                  stderr: root.path + "/piped.err")
            #expect(out.wait(seconds: 60) == 0, "\(Kernel.read(root.path + "/piped.err") ?? "")")
            #expect(try Self.names(piped).sorted() == names.sorted())
        }

        @Test("export of a created container is its image; of a running one, what it has written so far")
        func exportCreatedAndRunning() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.create(["--name", "fresh"], ["true"])
            let fresh = root.path + "/fresh.tar"
            #expect(try root.berth(["export", "-o", fresh, "fresh"]).status == 0)
            let imageNames = try Self.names(fresh)
            #expect(imageNames.contains("bin/payload") && !imageNames.contains("new"))

            _ = try root.runDetached(["--name", "live"], ["sh", "-c", "echo up > /running-mark; sleep 1000"])
            #expect(root.waitUntil(seconds: 10) {
                (try? root.berth(["exec", "live", "cat", "/running-mark"]).output) == "up"
            })
            let live = root.path + "/live.tar"
            #expect(try root.berth(["export", "--output", live, "live"]).status == 0)
            #expect(try Self.names(live).contains("running-mark"))
            #expect(try root.status("live")?.hasPrefix("Up ") == true)
        }

        @Test("export refuses a terminal, an unknown container, no container, and leaves no partial file")
        func exportRefuses() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.create(["--name", "box"], ["true"])
            let terminal = try PTYSession.run(fixture: fixture, arguments: ["--root", root.path, "export", "box"], steps: [])
            #expect(terminal.status == 125)
            #expect(terminal.output.contains("berth: refusing to write a tar to a terminal: use -o FILE or redirect stdout"),
                    "\(terminal.output)")
            let ghost = try root.berth(["export", "-o", root.path + "/ghost.tar", "ghost"])
            #expect(ghost.status == 1 && ghost.stderr == "berth: no such container: ghost\n")
            #expect(!FileManager.default.fileExists(atPath: root.path + "/ghost.tar"))
            let usage = try root.berth(["export"])
            #expect(usage.status == 125 && usage.stderr == "berth: export takes one container name or id\n")
            let missing = try root.berth(["export", "-o", root.path + "/no/such/dir/x.tar", "box"])
            #expect(missing.status == 1 && missing.stderr.hasPrefix("berth: cannot create \(root.path)/no/such/dir/x.tar"),
                    "\(missing.stderr)")
        }
    }

    @Suite("VersionAndInfo")
    struct VersionAndInfo {
        let fixture = Fixture.shared

        static var kernelRelease: String {
            (Kernel.read("/proc/sys/kernel/osrelease") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }

        @Test("--version is one line; version names the build, the platform and the kernel")
        func version() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            for flag in [["--version"], ["-v"], ["--version", "ps"]] {
                let r = try root.berth(flag)
                #expect(r.status == 0 && r.stdout.wholeMatch(of: /berth version \d+\.\d+\.\d+\n/) != nil, "\(r.stdout)")
            }
            let r = try root.berth(["version"])
            #expect(r.status == 0, "\(r.stderr)")
            var machine = utsname()
            uname(&machine)
            let arch = withUnsafeBytes(of: machine.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            #expect(r.stdout.contains(" OS/Arch:        linux/\(arch)\n"), "\(r.stdout)")
            #expect(r.stdout.contains(" Kernel:         \(Self.kernelRelease)\n"), "\(r.stdout)")
            #expect(r.stdout.contains(" Storage root:   \(root.path)\n"), "\(r.stdout)")
            #expect(r.stdout.hasPrefix("Client:\n Version:        "))
            let extra = try root.berth(["version", "now"])
            #expect(extra.status == 125 && extra.stderr == "berth: version takes no arguments (got \"now\")\n")
        }

        @Test("info counts running, paused and stopped containers and images, and reports the host's facts")
        func info() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "up"], Containers.Pause.politeForever)
            _ = try root.runDetached(["--name", "napping"], Containers.Pause.politeForever)
            #expect(try root.berth(["pause", "napping"]).status == 0)
            _ = try root.create(["--name", "made"], ["true"])
            _ = try root.runDetached(["--name", "done"], ["true"])
            #expect(try root.waitForExit("done") == "0")

            let r = try root.berth(["info", "--format", "json"])
            #expect(r.status == 0, "\(r.stderr)")
            let info = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(info["Containers"] as? Int == 4)
            #expect(info["ContainersRunning"] as? Int == 1)
            #expect(info["ContainersPaused"] as? Int == 1)
            #expect(info["ContainersStopped"] as? Int == 2)
            #expect(info["Images"] as? Int == 1)
            #expect(info["KernelVersion"] as? String == Self.kernelRelease)
            #expect(info["StorageRoot"] as? String == root.path)
            // What run gives a container without --network (these tests' containers say none).
            #expect(info["DefaultNetwork"] as? String == "bridge")
            let magic = try Command.run("/usr/bin/stat", ["-f", "-c", "%t", root.path]).output
            let expected = ["ef53": "extfs", "58465342": "xfs", "9123683e": "btrfs", "1021994": "tmpfs"][magic]
            #expect(info["StorageFilesystem"] as? String == expected ?? "unknown (magic 0x\(magic))")
            // Containers run here: overlay works.
            #expect((info["Overlay"] as? [String: Any])?["Supported"] as? Bool == true)
            let seccomp = Kernel.read("/proc/self/status")?.contains("Seccomp:") == true
            #expect((info["Seccomp"] as? [String: Any])?["Supported"] as? Bool == seccomp)
            let namespaces = Int(Kernel.read("/proc/sys/user/max_user_namespaces")?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "0") ?? 0
            #expect((info["UserNamespaces"] as? [String: Any])?["Supported"] as? Bool == (namespaces > 0))
            #expect((info["SubordinateIDs"] as? [String: Any])?["Supported"] is Bool)

            let text = try root.berth(["info"])
            #expect(text.status == 0, "\(text.stderr)")
            let lines = text.stdout.split(separator: "\n")
            #expect(lines.contains("Containers:          4") && lines.contains(" Paused:             1"), "\(text.stdout)")
            #expect(lines.contains("Storage Root:        \(root.path)"), "\(text.stdout)")
            // Values in one column.
            let columns = Set(lines.compactMap { line -> Int? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                let rest = line[line.index(after: colon)...]
                return line.distance(from: line.startIndex, to: colon) + 1 + rest.prefix { $0 == " " }.count
            })
            #expect(columns.count == 1, "\(text.stdout)")

            let bad = try root.berth(["info", "--format", "yaml"])
            #expect(bad.status == 125 && bad.stderr == "berth: unknown --format \"yaml\": use table or json\n")
        }
    }
}
