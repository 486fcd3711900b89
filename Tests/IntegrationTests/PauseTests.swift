import Containers
import Foundation
import ImageStore
import Testing

extension Kernel {
    /// Whether the kernel reports the container's cgroup (`HostConfig.Cgroup`) frozen: the v1
    /// freezer hierarchy's freezer.state, or v2's cgroup.events.
    static func isFrozen(cgroup: String) -> Bool {
        let relative = cgroup.hasPrefix("/") ? String(cgroup.dropFirst()) : cgroup
        if Host.isCgroupV2 {
            return read("/sys/fs/cgroup/\(relative)/cgroup.events")?.contains("frozen 1") == true
        }
        return read("/sys/fs/cgroup/freezer/\(relative)/freezer.state")?.hasPrefix("FROZEN") == true
    }
}

extension Containers {
    /// Pause and unpause (the cgroup freezer, v1 or v2), and commit's pause of a running
    /// container (issue 11, item 1; Docker's `commit --pause`, on unless `--pause=false`).
    @Suite("Pause")
    struct Pause {
        let fixture = Fixture.shared
        /// Ends at once on SIGTERM, when it can run its handler.
        static let politeForever = ["sh", "-c", "trap 'exit 0' TERM; while :; do echo x >> /ticks; sleep 0.05; done"]

        /// The container `name` started detached, with its record and its cgroup.
        private func running(_ root: LifecycleRoot, _ name: String) throws -> (ContainerEngine, ContainerRecord) {
            _ = try root.runDetached(["--name", name], Self.politeForever)
            let engine = try root.engine()
            return (engine, try engine.find(name))
        }

        @Test("commit freezes a running container while it reads its files and thaws it after")
        func commitPausesARunningContainer() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let (engine, record) = try running(root, "busy")
            // The config edits run inside the commit, after the layer is packed: the container
            // must still be frozen there, and so it was for the whole walk of its files.
            var frozenDuringCommit: Bool?
            var pausedDuringCommit: Bool?
            let request = CommitRequest(target: try ImageReference.parse("paused/commit:1")) { _ in
                frozenDuringCommit = Kernel.isFrozen(cgroup: record.hostConfig.cgroup)
                pausedDuringCommit = engine.state(of: record).paused
            }
            let result = try engine.commit(record, request)
            #expect(frozenDuringCommit == true, "the container ran during the commit")
            #expect(pausedDuringCommit == true)
            #expect(!Kernel.isFrozen(cgroup: record.hostConfig.cgroup), "the container stays frozen after the commit")
            #expect(!engine.isPaused(record))
            #expect(engine.state(of: record).status == .running)
            #expect(try engine.images().resolve("paused/commit:1").configDigest == result.id)
            // It runs on: its ticks go on growing.
            let grows = "a=$(wc -l < /ticks); sleep 0.3; test $(wc -l < /ticks) -gt $a"
            let ticks = try engine.exec(record, ExecRequest(command: ["sh", "-c", grows]))
            #expect(ticks == 0, "the container does not run after the commit")
        }

        @Test("commit with pause off leaves the container running; the CLI takes --pause=false and -p=false")
        func commitWithoutPause() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let (engine, record) = try running(root, "unpaused")
            var frozenDuringCommit: Bool?
            let request = CommitRequest(target: try ImageReference.parse("running/commit:1"), pause: false) { _ in
                frozenDuringCommit = Kernel.isFrozen(cgroup: record.hostConfig.cgroup)
            }
            _ = try engine.commit(record, request)
            #expect(frozenDuringCommit == false, "commit froze the container although asked not to")

            for spelling in ["--pause=false", "-p=false", "--pause", "-p"] {
                let r = try root.berth(["commit", spelling, "unpaused", "running/commit:cli"])
                #expect(r.status == 0, "commit \(spelling): \(r.stderr)")
            }
            let wrong = try root.berth(["commit", "--pause=maybe", "unpaused"])
            #expect(wrong.status != 0)
            #expect(wrong.stderr.contains("--pause is a flag: give it alone or as --pause=false"), "\(wrong.stderr)")
            #expect(!Kernel.isFrozen(cgroup: record.hostConfig.cgroup))
        }

        @Test("a commit that fails while the container is frozen still thaws it")
        func failedCommitThaws() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let (engine, record) = try running(root, "failing")
            // A file named .wh.* of the container's own: commit refuses it while it packs the layer.
            #expect(try engine.exec(record, ExecRequest(command: ["touch", "/.wh.mine"])) == 0)
            let refused = #expect(throws: ContainerError.self) {
                try engine.commit(record, CommitRequest(target: try ImageReference.parse("never/made:1")))
            }
            #expect(refused?.description.contains(".wh.mine") == true, "\(refused?.description ?? "-")")
            #expect(!Kernel.isFrozen(cgroup: record.hostConfig.cgroup), "the failed commit left the container frozen")
            #expect(engine.state(of: record).status == .running && !engine.isPaused(record))

            // The helper itself: the body's error comes through, the container is thawed.
            struct BodyFailed: Error {}
            var frozenInBody = false
            #expect(throws: BodyFailed.self) {
                try engine.whilePaused(record, for: "the test") { () throws -> Void in
                    frozenInBody = Kernel.isFrozen(cgroup: record.hostConfig.cgroup)
                    throw BodyFailed()
                }
            }
            #expect(frozenInBody)
            #expect(!Kernel.isFrozen(cgroup: record.hostConfig.cgroup))
        }

        /// A container started by a berth that made no freezer cgroup (before this one): its
        /// commit says how to go on, and --pause=false commits it.
        @Test("commit of a running container without a freezer cgroup says to use --pause=false",
              .enabled(if: Host.isCgroupV1, "needs cgroup v1 (the freezer is a hierarchy of its own there)"))
        func commitWithoutAFreezerCgroup() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let (engine, record) = try running(root, "older")
            let relative = record.hostConfig.cgroup.hasPrefix("/") ? String(record.hostConfig.cgroup.dropFirst()) : record.hostConfig.cgroup
            let leaf = "/sys/fs/cgroup/freezer/" + relative
            let parent = URL(fileURLWithPath: leaf).deletingLastPathComponent().path
            // Out of its freezer cgroup, which can then go, as if it had never been made.
            for pid in (Kernel.read(leaf + "/cgroup.procs") ?? "").split(separator: "\n") {
                try String(pid).write(toFile: parent + "/cgroup.procs", atomically: false, encoding: .utf8)
            }
            try #require(rmdir(leaf) == 0, "cannot remove \(leaf): errno \(errno)")

            let r = try root.berth(["commit", "older", "older/img:1"])
            #expect(r.status == 1)
            #expect(r.stderr == "berth: cannot pause container older for the commit (commit it running with --pause=false): "
                + "cannot freeze cgroup /\(relative): it does not exist\n", "\(r.stderr)")
            #expect(try root.berth(["commit", "--pause=false", "older", "older/img:1"]).status == 0)
            #expect(!engine.isPaused(record))
            #expect(try root.status("older")?.hasPrefix("Up ") == true)
        }

        @Test("pause and unpause: ps, inspect, exec refused, state errors, commit keeps a paused container paused")
        func pauseAndUnpause() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try running(root, "napper")
            let cgroup = try root.cgroup("napper")

            let paused = try root.berth(["pause", "napper"])
            #expect(paused.status == 0 && paused.output == "napper", "\(paused.stderr)")
            #expect(Kernel.isFrozen(cgroup: cgroup))
            let state = try root.state("napper")
            #expect(state["Status"] as? String == "paused")
            #expect(state["Paused"] as? Bool == true && state["Running"] as? Bool == true)
            #expect(try root.status("napper")?.hasSuffix("(Paused)") == true, "\((try? root.status("napper")) ?? "-")")
            #expect(try root.list().first?["State"] as? String == "paused")

            let again = try root.berth(["pause", "napper"])
            #expect(again.status == 1)
            #expect(again.stderr == "berth: container napper is already paused: unpause it with berth unpause napper\n",
                    "\(again.stderr)")
            let exec = try root.berth(["exec", "napper", "true"], timeout: 20)
            #expect(exec.status != 0)
            #expect(exec.stderr.contains("container napper is paused: unpause it first"), "\(exec.stderr)")

            // Docker leaves a container the user paused paused after a commit.
            let committed = try root.berth(["commit", "napper", "napper/img:1"])
            #expect(committed.status == 0, "\(committed.stderr)")
            #expect(Kernel.isFrozen(cgroup: cgroup))

            let unpaused = try root.berth(["unpause", "napper"])
            #expect(unpaused.status == 0, "\(unpaused.stderr)")
            #expect(!Kernel.isFrozen(cgroup: cgroup))
            #expect(try root.state("napper")["Status"] as? String == "running")
            #expect(try root.status("napper")?.hasPrefix("Up ") == true)
            #expect(try root.status("napper")?.contains("Paused") == false)

            let notPaused = try root.berth(["unpause", "napper"])
            #expect(notPaused.status == 1)
            #expect(notPaused.stderr == "berth: container napper is not paused: only a paused container can be unpaused\n",
                    "\(notPaused.stderr)")

            #expect(try root.berth(["stop", "-t", "5", "napper"]).status == 0)
            let stopped = try root.berth(["pause", "napper"])
            #expect(stopped.status == 1)
            #expect(stopped.stderr == "berth: container napper is not running: only a running container can be paused\n",
                    "\(stopped.stderr)")
        }

        @Test("stop, kill and rm -f end a paused container; stop lets its TERM handler run")
        func stopAndKillPaused() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            for name in ["stopped", "killed", "removed"] {
                _ = try running(root, name)
                let r = try root.berth(["pause", name])
                #expect(r.status == 0, "pause \(name): \(r.stderr)")
            }
            let started = Date()
            let stop = try root.berth(["stop", "-t", "10", "stopped"])
            #expect(stop.status == 0, "\(stop.stderr)")
            #expect(Date().timeIntervalSince(started) < 5, "stop of a paused container waited out its grace period")
            #expect(try root.status("stopped")?.hasPrefix("Exited (0)") == true, "\((try? root.status("stopped")) ?? "-")")

            let kill = try root.berth(["kill", "killed"])
            #expect(kill.status == 0, "\(kill.stderr)")
            #expect(try root.waitUntil(seconds: 10) { try root.status("killed")?.hasPrefix("Exited (137)") == true },
                    "\((try? root.status("killed")) ?? "-")")

            let remove = try root.berth(["rm", "-f", "removed"])
            #expect(remove.status == 0, "\(remove.stderr)")
            #expect(try root.status("removed") == nil)
            #expect(root.waitUntil(seconds: 10) { Kernel.processesInCgroups(under: fixture.cgroupParent).isEmpty },
                    "processes of the paused containers are left")
        }
    }
}
