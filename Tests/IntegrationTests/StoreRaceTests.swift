import Foundation
import Testing

extension Containers {
    /// Issue 11: `load` stored its blobs under the shared lock and recorded them under the
    /// exclusive one, and an `image prune` in between deleted them ("blob … is not in the store"
    /// in 739 of 1 194 loads). Separate berth processes, as a user would run them.
    @Suite("Store races")
    struct StoreRaces {
        let fixture = Fixture.shared

        /// Issue 11: the upper dir's walk stat'ed a file, then opened it blocking; a container that
        /// had swapped it for a FIFO meanwhile hung `commit` (and every command waiting for the
        /// store's lock) within a few hundred tries.
        @Test("commit of a container that keeps swapping a file for a FIFO never hangs")
        func commitDuringFIFOSwaps() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            // Four loops, each swapping its own file between a FIFO and a regular file.
            let swapper = "mkdir -p /swap && cd /swap && for n in 1 2 3 4; do "
                + "(while :; do mkfifo p$n; mv -f p$n f$n; echo a > r$n; mv -f r$n f$n; done) & done; wait"
            let id = try root.runDetached([], ["sh", "-c", swapper])
            var hung = 0
            var committed = 0
            var refused: [String] = []
            let deadline = Date().addingTimeInterval(90)
            for round in 0..<200 where Date() < deadline {
                // A commit takes well under a second; 20 s means it waits on the FIFO.
                // --pause=false: a paused container swaps nothing, and the race is the point here.
                let r = try root.berth(["commit", "--pause=false", id, "swap/commit:\(round)"], timeout: 20)
                if r.status == 0 {
                    committed += 1
                } else if r.stderr.contains("kept being replaced") {
                    refused.append(r.stderr)
                } else {
                    hung += 1
                    Issue.record("commit \(round) exited \(r.status): \(r.stderr)")
                }
            }
            #expect(hung == 0, "\(hung) commits did not finish within 20 s")
            #expect(committed > 0, "no commit got through: \(refused.first ?? "")")
            // The store is usable afterwards: nothing holds its lock.
            #expect(try root.berth(["image", "prune", "-a"], timeout: 60).status == 0)
        }

        @Test("rmi and load in a loop while image prune runs in another loop: every load succeeds")
        func loadDuringPrunes() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let archive = root.path + "/busybox.tar"
            let saved = try root.berth(["save", "-o", archive, LifecycleRoot.image])
            try #require(saved.status == 0, "\(saved.stderr)")
            // The pruner: bounded by a stop file and by a count, whichever comes first.
            let stop = root.path + "/stop-pruning"
            let pruner = try Spawned("/bin/sh", ["-c", """
                i=0
                while [ ! -e '\(stop)' ] && [ $i -lt 2000 ]; do
                    '\(fixture.berth)' --root '\(root.path)' image prune >/dev/null 2>>'\(root.path)/prune.err'
                    i=$((i+1))
                done
                """], stdout: "/dev/null", stderr: root.path + "/pruner.err")
            var failures: [String] = []
            let deadline = Date().addingTimeInterval(120)
            var loads = 0
            while loads < 25 && Date() < deadline {
                loads += 1
                let removed = try root.berth(["rmi", "-f", LifecycleRoot.image])
                let loaded = try root.berth(["load", "-i", archive])
                if removed.status != 0 { failures.append("rmi: \(removed.stderr)") }
                if loaded.status != 0 { failures.append("load: \(loaded.stderr)") }
            }
            #expect(FileManager.default.createFile(atPath: stop, contents: nil))
            #expect(pruner.wait(seconds: 60) == 0)
            #expect(failures.isEmpty, "\(failures.count) failures in \(loads) rounds, the first: \(failures.first ?? "")")
            let prunes = (try? String(contentsOfFile: root.path + "/prune.err", encoding: .utf8)) ?? ""
            #expect(prunes.isEmpty, "image prune failed: \(prunes.prefix(300))")
            #expect(try root.berth(["run", "--rm", "--cgroup-parent", fixture.cgroupParent, LifecycleRoot.image, "true"]).status == 0)
        }
    }
}
