import Foundation
import Testing
@testable import ImageStore

/// The commit benchmark: `ImageStore.commit` of an upper dir of 10 000 small files (blob written,
/// fsync'ed, config, manifest and index written) next to the floor `tar -C dir -cf - . | gzip |
/// sha256sum` on the same tree in the same run. Opt in with BERTH_COMMIT_BENCH=1; it prints, it does
/// not assert. The target is ≤ 1.2× the floor.
@Suite("Commit benchmark", .serialized, .enabled(if: ProcessInfo.processInfo.environment["BERTH_COMMIT_BENCH"] == "1",
                                                 "set BERTH_COMMIT_BENCH=1 to run the commit benchmark"))
struct CommitBenchmark {
    @Test("commit vs tar | gzip | sha256sum", arguments: [10_000])
    func commitVersusFloor(files: Int) throws {
        let s = try ImageStoreTests.Scratch()
        let base = try s.importTree("bench/base:v1")
        try LayerFixtures.python("""
            import os, random
            random.seed(\(files))
            words = 'the layer store keeps unpacked layers shared by every image and container'.split()
            for i in range(\(files)):
                d = '\(s.base)/upper/d%03d' % (i // 100)
                os.makedirs(d, exist_ok=True)
                text = ' '.join(random.choice(words) for _ in range(random.randint(20, 400)))
                with open('%s/f%05d' % (d, i), 'w') as f:
                    f.write('%d %s\\n' % (i, text))
            """)
        let upper = s.base + "/upper"
        _ = try LayerFixtures.sh("tar -C '\(upper)' -cf - . > /dev/null")  // warm the page cache
        var ours: [Double] = [], floor: [Double] = []
        for run in 0..<7 {
            ours.append(try timed { _ = try s.commit(upper, on: base.manifest, as: "bench/c:v\(run)") })
            floor.append(try timed { _ = try LayerFixtures.sh("tar -C '\(upper)' -cf - . | gzip | sha256sum") })
        }
        let o = ours.sorted()[ours.count / 2], f = floor.sorted()[floor.count / 2]
        print(String(format: "commit benchmark: %5d files  commit %7.2f ms  tar|gzip|sha256sum %7.2f ms  ratio %.2f",
                     files, o * 1000, f * 1000, o / f))
    }

    private func timed(_ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
