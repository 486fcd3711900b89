import Foundation
import Testing

extension Containers {
    /// Issue 11: lifecycle commands on one container at the same moment, as separate berth
    /// processes the way users and scripts run them. Each gives one clear answer: one `rm -f`
    /// succeeds and the others say "no such container"; restarts and starts are done one after
    /// the other and all succeed; an exec or a commit that loses its container to a stop or an
    /// rm says so in a sentence, never in an errno's words.
    @Suite("Lifecycle races")
    struct LifecycleRaces {
        let fixture = Fixture.shared

        static let forever = ["sh", "-c", "while :; do sleep 0.1; done"]

        @Test("N concurrent rm -f of one running container: one success, the others 'no such container', nothing left")
        func concurrentForcedRemovals() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let callers = 8
            for round in 0..<3 {
                let id = try root.runDetached([], Self.forever)
                let results = concurrently(Array(repeating: ["rm", "-f", id], count: callers), root)
                let succeeded = results.filter { $0?.status == 0 }
                #expect(succeeded.count == 1, "round \(round): \(results.map(describe))")
                #expect(succeeded.first??.output == id, "round \(round): the winner printed \(succeeded.first??.stdout ?? "")")
                for result in results where result?.status != 0 {
                    let stderr = result?.stderr.trimmingCharacters(in: .whitespacesAndNewlines) ?? "timed out"
                    #expect(LostRace.noSuchContainer.says(stderr), "round \(round): \(stderr)")
                }
                // The monitor records the end and lets go just before it exits: polled, not slept.
                let clean = root.waitUntil(seconds: 10) { root.leftovers().isEmpty }
                #expect(clean, "round \(round): \(root.leftovers())")
            }
        }

        @Test("concurrent restarts of one container: all succeed, none waits out a timeout, one container runs at the end")
        func concurrentRestarts() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let name = "restarted"
            // Not a shell's trap: a restart may signal the container the one before it has just
            // started, before a shell as pid 1 has set its trap, and pid 1 ignores a signal it
            // has no handler for, so that stop would wait out its 10 s (Docker's too). Under
            // --init the command is not pid 1, and SIGTERM's default action ends it at once.
            _ = try root.runDetached(["--name", name, "--init"], ["sleep", "1000"])
            let callers = 4
            let started = Date()
            let results = concurrently(Array(repeating: ["restart", "-t", "10", name], count: callers), root, timeout: 60)
            let elapsed = Date().timeIntervalSince(started)
            #expect(results.allSatisfy { $0?.status == 0 && $0?.output == name && $0?.stderr.isEmpty == true },
                    "\(results.map(describe))")
            // Each restart of this container takes a fraction of a second, one after the other;
            // the race made one of them wait its full 10 s for a container another had started.
            #expect(elapsed < (Host.inVM ? 40 : 8), "\(callers) restarts took \(elapsed) s")
            try expectOneRunningContainer(root, name)
        }

        @Test("concurrent start of one stopped container: every start exits 0, one init runs")
        func concurrentStarts() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let name = "started"
            _ = try root.runDetached(["--name", name], ["sleep", "1000"])
            for round in 0..<3 {
                let stopped = try root.berth(["stop", "-t", "0", name])
                try #require(stopped.status == 0, "round \(round): stop: \(stopped.stderr)")
                let results = concurrently(Array(repeating: ["start", name], count: 6), root)
                // Docker's rule: start of a running container is a success that does nothing.
                #expect(results.allSatisfy { $0?.status == 0 && $0?.output == name && $0?.stderr.isEmpty == true },
                        "round \(round): \(results.map(describe))")
                try expectOneRunningContainer(root, name)
            }
        }

        @Test("commit racing rm -f: the commit has every file or says 'no such container'; rm -f always succeeds")
        func commitRacingRemove() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let files = 200
            let writer = "mkdir /d && cd /d && for k in $(seq \(files)); do echo $k > f$k; done && touch /ready; "
                + "while :; do sleep 0.1; done"
            let rounds = Host.inVM ? 4 : 12
            let deadline = Date().addingTimeInterval(Host.inVM ? 150 : 90)
            var lost = 0
            var committed: [String] = []
            for round in 0..<rounds where Date() < deadline {
                let id = try root.runDetached([], ["sh", "-c", writer])
                let ready = try root.waitUntil(seconds: 20) { try root.berth(["exec", id, "test", "-e", "/ready"]).status == 0 }
                try #require(ready, "round \(round): the container did not write its files")
                // The rm goes first in half of the rounds, the commit in the other half.
                let order: [[String]] = [["rm", "-f", id], ["commit", id, "race/commit:\(round)"]]
                let results = concurrently(round % 2 == 0 ? order : order.reversed(), root)
                let removal = results[round % 2 == 0 ? 0 : 1], commit = results[round % 2 == 0 ? 1 : 0]
                #expect(removal?.status == 0, "round \(round): rm -f: \(describe(removal))")
                if commit?.status == 0 {
                    committed.append("race/commit:\(round)")
                } else {
                    lost += 1
                    let stderr = commit?.stderr.trimmingCharacters(in: .whitespacesAndNewlines) ?? "timed out"
                    #expect(LostRace.noSuchContainer.says(stderr) || LostRace.removedMeanwhile.says(stderr),
                            "round \(round): commit: \(stderr)")
                }
            }
            // A commit that won has the whole layer: the rm did not delete files under its walk.
            for image in committed.prefix(2) {
                let counted = try root.berth(["run", "--rm", "--cgroup-parent", fixture.cgroupParent, image, "sh", "-c", "ls /d | wc -l"])
                #expect(counted.status == 0 && counted.output == String(files), "\(image): \(describe(counted))")
            }
            #expect(root.waitUntil(seconds: 10) { root.leftovers().isEmpty }, "\(root.leftovers())")
            print("commit racing rm -f: \(committed.count) committed, \(lost) lost to the rm")
        }

        @Test("exec racing stop: every exec runs, is killed by the stop, or says the container stopped meanwhile")
        func execRacingStop() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let rounds = Host.inVM ? 8 : 30
            let deadline = Date().addingTimeInterval(Host.inVM ? 150 : 90)
            var meanwhile = 0
            for round in 0..<rounds where Date() < deadline && meanwhile < 5 {
                let id = try root.runDetached([], Self.forever)
                let exec = ["exec", id, "sh", "-c", "sleep 0.2"]
                let results = concurrently([["stop", "-t", "0", id], exec, exec, exec, exec], root)
                #expect(results[0]?.status == 0, "round \(round): stop: \(describe(results[0]))")
                for result in results.dropFirst() {
                    let stderr = result?.stderr.trimmingCharacters(in: .whitespacesAndNewlines) ?? "timed out"
                    switch result?.status {
                    case 0, 137:
                        // It ran, or it was running when the stop ended the container.
                        #expect(stderr.isEmpty, "round \(round): \(stderr)")
                    default:
                        if LostRace.stoppedMeanwhile.says(stderr) { meanwhile += 1 }
                        #expect(LostRace.stoppedMeanwhile.says(stderr) || LostRace.notRunning.says(stderr),
                                "round \(round): exec exited \(result?.status ?? -1): \(stderr)")
                    }
                }
                _ = try root.berth(["rm", "-f", id])
            }
            print("exec racing stop: \(meanwhile) execs said the container stopped meanwhile")
        }

        // MARK: - helpers

        /// Runs each argument list as its own berth process, all at once; the results in order
        /// (nil for one that could not be started).
        private func concurrently(_ commands: [[String]], _ root: LifecycleRoot, timeout: Double = 60) -> [Command.Result?] {
            let results = RaceResults(commands.count)
            DispatchQueue.concurrentPerform(iterations: commands.count) { i in
                results.set(i, try? root.berth(commands[i], timeout: timeout))
            }
            return results.all
        }

        private func describe(_ result: Command.Result?) -> String {
            guard let result else { return "timed out" }
            return "exit \(result.status): \(result.output) \(result.stderr)"
        }

        /// The container runs, under one monitor, with one process in its cgroup (its init).
        private func expectOneRunningContainer(_ root: LifecycleRoot, _ name: String) throws {
            let state = try root.state(name)
            #expect(state["Status"] as? String == "running", "\(state)")
            let pid = (state["Pid"] as? NSNumber)?.int32Value ?? 0
            #expect(pid > 0 && Kernel.isAlive(pid), "State.Pid \(pid)")
            let monitors = Kernel.processes(mentioning: root.path).filter { Kernel.comm($0) == "berth-monitor" }
            #expect(monitors.count == 1, "monitors: \(monitors.map(Kernel.commandLine))")
            let cgroup = try root.cgroup(name)
            let procs = Kernel.cgroupProcs(cgroup) ?? []
            #expect(procs == [pid] || procs.contains(pid) && procs.allSatisfy { Kernel.parent(of: $0) == pid || $0 == pid },
                    "cgroup \(cgroup) holds \(procs), the init is \(pid)")
        }
    }
}

/// Results of concurrent berth processes, by index.
private final class RaceResults: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Command.Result?]
    init(_ count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Command.Result?) { lock.withLock { values[index] = value } }
    var all: [Command.Result?] { lock.withLock { values } }
}

/// The sentences a berth command that lost a race to another may end with.
private enum LostRace {
    case noSuchContainer, stoppedMeanwhile, removedMeanwhile, notRunning

    /// Whether `stderr` is this sentence, and nothing else.
    func says(_ stderr: String) -> Bool {
        switch self {
        case .noSuchContainer: stderr.wholeMatch(of: /berth: no such container: \S+/) != nil
        case .stoppedMeanwhile: stderr.wholeMatch(of: /berth: container \S+ stopped meanwhile/) != nil
        case .removedMeanwhile: stderr.wholeMatch(of: /berth: container \S+ was removed meanwhile/) != nil
        case .notRunning: stderr.wholeMatch(of: /berth: container \S+ is not running[^\n]*/) != nil
        }
    }
}
