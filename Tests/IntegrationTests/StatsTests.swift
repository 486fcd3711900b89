import Foundation
import Testing

extension Containers {
    /// `berth stats` (issue 14): figures read from the container's cgroup, compared with the
    /// cgroup's own files, on v1 here and v2 in the VM.
    @Suite("Stats")
    struct Stats {
        let fixture = Fixture.shared

        /// Bytes of Docker's "20.5MiB" / "1.2kB" / "648B".
        static func bytes(_ text: Substring) -> Double? {
            let units: [(String, Double)] = [("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("kB", 1e3), ("MB", 1e6),
                                             ("GB", 1e9), ("B", 1)]
            for (unit, scale) in units where text.hasSuffix(unit) {
                return Double(text.dropLast(unit.count)).map { $0 * scale }
            }
            return nil
        }

        /// The memory figure Docker's rule gives from the cgroup's files: usage minus the page cache.
        static func memoryInUse(_ cgroup: String) -> Double? {
            let relative = cgroup.hasPrefix("/") ? String(cgroup.dropFirst()) : cgroup
            let base = Host.isCgroupV2 ? "/sys/fs/cgroup/\(relative)" : "/sys/fs/cgroup/memory/\(relative)"
            let usageFile = Host.isCgroupV2 ? "memory.current" : "memory.usage_in_bytes"
            guard let usage = Kernel.read("\(base)/\(usageFile)").flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
                  let stat = Kernel.read("\(base)/memory.stat") else { return nil }
            let key = Host.isCgroupV2 ? "inactive_file" : "total_cache"
            let cache = stat.split(separator: "\n").first { $0.hasPrefix(key + " ") }
                .flatMap { Double($0.split(separator: " ")[1]) } ?? 0
            return usage - cache
        }

        static func pidsCurrent(_ cgroup: String) -> Int? {
            let relative = cgroup.hasPrefix("/") ? String(cgroup.dropFirst()) : cgroup
            let path = Host.isCgroupV2 ? "/sys/fs/cgroup/\(relative)/pids.current" : "/sys/fs/cgroup/pids/\(relative)/pids.current"
            return Kernel.read(path).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }

        private func statsJSON(_ root: LifecycleRoot, _ names: [String]) throws -> [[String: Any]] {
            let r = try root.berth(["stats", "--no-stream", "--format", "json"] + names)
            guard r.status == 0 else { throw FixtureError(message: "stats: \(r.stderr)") }
            return try r.stdout.split(separator: "\n").map { line in
                guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw FixtureError(message: "stats --format json: not an object: \(line)")
                }
                return object
            }
        }

        @Test("memory, its limit and pids as the cgroup's files give them; no network on --network none")
        func figuresMatchTheCgroup() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "hog", "--memory", "64m"],
                                     ["sh", "-c", "/bin/payload memhog 24 hold & sleep 1000 & wait"])
            #expect(root.waitUntil(seconds: 20) { (try? root.berth(["logs", "hog"]).stdout.contains("done 24")) == true })
            let cgroup = try root.cgroup("hog")
            let rows = try statsJSON(root, ["hog"])
            #expect(rows.count == 1)
            let row = rows.first ?? [:]
            #expect(row["Name"] as? String == "hog")
            let memory = (row["MemUsage"] as? String ?? "").split(separator: " / ")
            #expect(memory.count == 2 && memory[1] == "64MiB", "\(row)")
            let shown = memory.first.flatMap(Self.bytes) ?? 0
            let kernel = Self.memoryInUse(cgroup) ?? -1
            // Within a MiB and a twentieth: the shell and sleep touch a little between the two reads.
            #expect(abs(shown - kernel) < 1_048_576 + kernel / 20, "stats \(shown), cgroup \(kernel)")
            #expect(shown >= 24 * 1_048_576, "\(row)")
            #expect(row["PIDs"] as? String == Self.pidsCurrent(cgroup).map(String.init), "\(row)")
            #expect(row["PIDs"] as? String == "3", "\(row)")
            #expect(row["NetIO"] as? String == "0B / 0B", "\(row)")
            let percent = Double((row["MemPerc"] as? String ?? "").dropLast()) ?? -1
            #expect(abs(percent - shown / 67_108_864.0 * 100) < 0.6, "\(row)")
        }

        @Test("a busy container's CPU %, the table's columns, and stopped and unknown containers")
        func cpuAndTable() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "spin"], ["sh", "-c", "while :; do :; done"])
            _ = try root.runDetached(["--name", "ended"], ["true"])
            #expect(try root.waitForExit("ended") == "0")
            let r = try root.berth(["stats", "--no-stream"])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("CONTAINER ID") == true, "\(r.stdout)")
            for title in ["NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"] {
                #expect(lines.first?.contains(title) == true, "\(title): \(r.stdout)")
            }
            // Without names: the running containers only.
            #expect(lines.count == 2 && lines[1].contains("spin"), "\(r.stdout)")
            let spinning = try statsJSON(root, ["spin"]).first ?? [:]
            let cpu = Double((spinning["CPUPerc"] as? String ?? "").dropLast()) ?? -1
            #expect(cpu > 10 && cpu < 250, "\(spinning)")
            // A stopped container, named, shows nothing used.
            let stopped = try statsJSON(root, ["ended"]).first ?? [:]
            #expect(stopped["CPUPerc"] as? String == "0.00%" && stopped["PIDs"] as? String == "0", "\(stopped)")
            let ghost = try root.berth(["stats", "--no-stream", "ghost"])
            #expect(ghost.status == 1 && ghost.stderr == "berth: no such container: ghost\n", "\(ghost.stderr)")
            let format = try root.berth(["stats", "--no-stream", "--format", "yaml"])
            #expect(format.status == 125, "\(format.stderr)")
        }
    }
}
