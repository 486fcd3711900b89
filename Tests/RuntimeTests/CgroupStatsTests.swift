import Foundation
import Testing
@testable import Runtime

extension CgroupTests {
    /// The files `stats(of:)` reads, parsed apart from the reading.
    @Suite("stats parsing") struct StatsParsing {
        @Test("limits: a number, v2's max, v1's page-rounded largest value")
        func limits() {
            #expect(CgroupStatsParser.limit("67108864\n") == 67_108_864)
            #expect(CgroupStatsParser.limit("max\n") == nil)
            #expect(CgroupStatsParser.limit("9223372036854771712\n") == nil)
        }

        @Test("block I/O of v1's blkio.throttle.io_service_bytes and v2's io.stat, summed over devices")
        func blockIO() {
            let v1 = "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n8:0 Total 4608\n8:16 Read 100\n8:16 Write 0\nTotal 4708\n"
            #expect(CgroupStatsParser.blockIO(v1: v1) == (4196, 512))
            let v2 = "8:0 rbytes=4096 wbytes=512 rios=1 wios=1 dbytes=0 dios=0\n8:16 rbytes=100 wbytes=7 rios=1 wios=1\n"
            #expect(CgroupStatsParser.blockIO(v2: v2) == (4196, 519))
        }

        @Test("memory minus the cache, never below zero; keys of memory.stat and cpu.stat")
        func memory() {
            #expect(CgroupStatsParser.withoutCache(100, 30) == 70)
            #expect(CgroupStatsParser.withoutCache(100, 300) == 0)
            #expect(CgroupStatsParser.withoutCache(100, nil) == 100)
            #expect(CgroupStatsParser.value(of: "usage_usec", in: "usage_usec 1234\nuser_usec 1000\n") == 1234)
            #expect(CgroupStatsParser.value(of: "total_cache", in: "cache 5\ntotal_cache 9\n") == 9)
        }

        @Test("stats read from a v2 cgroup directory")
        func v2Directory() throws {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-stats-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: root) }
            let leaf = root + "/berth/c1"
            try FileManager.default.createDirectory(atPath: leaf, withIntermediateDirectories: true)
            let files = ["memory.current": "1048576\n", "memory.stat": "anon 1\ninactive_file 48576\n", "memory.max": "max\n",
                         "cpu.stat": "usage_usec 2500\n", "pids.current": "4\n"]
            for (name, text) in files { try text.write(toFile: leaf + "/" + name, atomically: false, encoding: .utf8) }
            let stats = try CgroupV2Driver(root: root).stats(of: CgroupPath("berth/c1"))
            #expect(stats == CgroupStats(cpuNanoseconds: 2_500_000, memoryBytes: 1_000_000, memoryLimit: nil,
                                         blockReadBytes: nil, blockWriteBytes: nil, pids: 4))
        }
    }
}
