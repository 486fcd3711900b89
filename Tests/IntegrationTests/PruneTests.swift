import Foundation
import Testing

/// `container prune`, `system df` and `system prune` (issue 14).
extension Containers {
    @Suite("Prune")
    struct Prune {
        let fixture = Fixture.shared

        /// `system df`'s rows by TYPE: the columns after it, split where Docker's table puts three spaces.
        static func diskUsage(_ root: LifecycleRoot) throws -> [String: [String]] {
            let r = try root.berth(["system", "df"])
            guard r.status == 0 else { throw FixtureError(message: "system df: \(r.stderr)") }
            var rows: [String: [String]] = [:]
            for line in r.stdout.split(separator: "\n").dropFirst() {
                let cells = line.split(separator: "   ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                if let kind = cells.first { rows[kind] = Array(cells.dropFirst()) }
            }
            return rows
        }

        @Test("container prune removes created and exited containers, never a running one")
        func containerPrune() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let exited = try root.runDetached(["--name", "exited"], ["sh", "-c", "head -c 100000 /dev/zero > /fill"])
            #expect(try root.waitForExit("exited") == "0")
            let created = try root.create(["--name", "created"], ["true"])
            let running = try root.runDetached(["--name", "running"], ["sleep", "1000"])
            let r = try root.berth(["container", "prune", "-f"])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.first == "Deleted Containers:")
            #expect(Set(lines.filter { $0.count == 64 }) == [exited, created], "\(r.stdout)")
            #expect(!r.stdout.contains(running))
            let total = lines.first { $0.hasPrefix("Total reclaimed space: ") }
            #expect(total != nil && total != "Total reclaimed space: 0B", "the exited container's layer held 100 kB: \(r.stdout)")
            #expect(try root.status("running")?.hasPrefix("Up ") == true)
            #expect(try root.status("exited") == nil && root.status("created") == nil)

            let again = try root.berth(["container", "prune"])
            #expect(again.status == 0 && again.stdout == "Total reclaimed space: 0B\n", "\(again.stdout)")
            let extra = try root.berth(["container", "prune", "x"])
            #expect(extra.status == 125 && extra.stderr == "berth: container prune takes no arguments (got \"x\")\n")
        }

        /// A foreground `--rm` container is recorded while its process sets itself up; until
        /// then it holds the image store's lock, so a prune never takes its layers, and after it
        /// the record keeps them: a prune run meanwhile neither waits for the container nor
        /// removes its image.
        @Test("a running run --rm container's image survives system prune -a, which does not wait for it")
        func foregroundRemovedContainerKeepsItsImage() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let run = try StreamingCommand(fixture.berth, ["--root", root.path, "run", "--rm", "--name", "fg", "--network", "none",
                                                           "--cgroup-parent", fixture.cgroupParent, LifecycleRoot.image,
                                                           "sh", "-c", "echo up; sleep 1000"])
            defer { if run.isRunning { _ = try? root.berth(["kill", "fg"]) }; run.wait(seconds: 10) }
            #expect(root.waitUntil(seconds: 10) { run.stdout == "up\n" }, "\(run.stderr)")
            #expect(try root.status("fg")?.hasPrefix("Up ") == true)
            let started = Date()
            let prune = try root.berth(["system", "prune", "-a", "-f"], timeout: 20)
            #expect(prune.status == 0 && !prune.stdout.contains("Deleted Images:"), "\(prune.stdout) \(prune.stderr)")
            #expect(Date().timeIntervalSince(started) < 10, "the prune waited for the running container")
            #expect(try root.berth(["images", "-q"]).output.count == 12)
            // Its root still reads the image's files.
            let exec = try root.berth(["exec", "fg", "cat", "/etc/passwd"])
            #expect(exec.status == 0 && exec.stdout.hasPrefix("root:"), "\(exec.stderr)")
            #expect(try root.berth(["kill", "fg"]).status == 0)
            #expect(run.wait(seconds: 10))
            #expect(try root.status("fg") == nil)
        }

        @Test("system df counts images, containers and volumes, in use and reclaimable")
        func systemDiskUsage() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let volume = "df-\(UUID().uuidString.prefix(8).lowercased())"
            #expect(try root.berth(["volume", "create", volume]).status == 0)
            defer { _ = try? root.berth(["volume", "rm", volume]) }
            _ = try root.runDetached(["--name", "running"], ["sleep", "1000"])
            _ = try root.runDetached(["--name", "exited"], ["sh", "-c", "head -c 100000 /dev/zero > /fill"])
            #expect(try root.waitForExit("exited") == "0")
            let rows = try Self.diskUsage(root)
            #expect(rows["Images"]?.prefix(2) == ["1", "1"], "\(rows)")
            #expect(rows["Images"]?.last == "0B (0%)", "the image is in use: \(rows)")
            #expect(rows["Containers"]?.prefix(2) == ["2", "1"], "\(rows)")
            #expect(rows["Containers"]?.last?.hasPrefix("0B") == false, "the exited container's layer is reclaimable: \(rows)")
            #expect(rows["Local Volumes"]?.prefix(3) == ["1", "0", "0B"], "\(rows)")
        }

        @Test("system prune: stopped containers and dangling images; -a every unused image; --volumes anonymous volumes only")
        func systemPrune() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let named = "keep-\(UUID().uuidString.prefix(8).lowercased())"
            _ = try root.create(["--name", "anon", "-v", "/data", "-v", named + ":/named"], ["true"])
            let volumes = try root.berth(["volume", "ls", "-q"]).stdout.split(separator: "\n").map(String.init)
            #expect(volumes.count == 2, "\(volumes)")
            let running = try root.runDetached(["--name", "running"], ["sleep", "1000"])

            // Without -a the tagged image stays; the stopped container goes, its volumes stay.
            let first = try root.berth(["system", "prune", "-f"])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.hasPrefix("Deleted Containers:\n"), "\(first.stdout)")
            #expect(!first.stdout.contains(running) && !first.stdout.contains("Deleted Images:"))
            #expect(try root.berth(["volume", "ls", "-q"]).stdout.split(separator: "\n").count == 2)

            // --volumes: the anonymous one goes, the named one stays.
            let second = try root.berth(["system", "prune", "--volumes"])
            #expect(second.status == 0 && second.stdout.contains("Deleted Volumes:\n"), "\(second.stdout)")
            #expect(try root.berth(["volume", "ls", "-q"]).stdout.split(separator: "\n").map(String.init) == [named])

            // -a: the image a running container uses stays until the container is gone.
            let inUse = try root.berth(["system", "prune", "-a", "-f"])
            #expect(inUse.status == 0 && !inUse.stdout.contains("Deleted Images:"), "\(inUse.stdout)")
            #expect(try root.berth(["rm", "-f", "running"]).status == 0)
            let all = try root.berth(["system", "prune", "-a", "-f"])
            #expect(all.status == 0 && all.stdout.contains("Deleted Images:\nuntagged: \(LifecycleRoot.image)\ndeleted: sha256:"),
                    "\(all.stdout)")
            #expect(try root.berth(["images", "-q"]).output.isEmpty)
            _ = try? root.berth(["volume", "rm", named])
        }
    }
}
