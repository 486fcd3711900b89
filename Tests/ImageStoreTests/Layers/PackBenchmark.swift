import Foundation
import Testing
@testable import ImageStore

/// Issue 4's commit benchmark, measured in process: pack (gzip) of upper dirs of 10 / 1 000 /
/// 10 000 small files, next to the floor of `tar -C dir -cf - . | gzip | sha256sum` on the same
/// tree in the same run. Opt in with BERTH_LAYER_BENCH=1; it prints, it does not assert (timings
/// on a shared CI machine are not a test). The target is ≤ 1.2× the floor.
@Suite("Layer pack benchmark", .serialized, .enabled(if: ProcessInfo.processInfo.environment["BERTH_LAYER_BENCH"] == "1",
                                        "set BERTH_LAYER_BENCH=1 to run the pack benchmark"))
struct PackBenchmark {
    @Test("pack vs tar | gzip | sha256sum", arguments: [10, 1_000, 10_000])
    func packVersusFloor(files: Int) throws {
        let base = try LayerFixtures.makeTemporaryDirectory("bench")
        defer { LayerFixtures.remove(base) }
        // Small files that compress like source and config files do, 100 to a directory.
        try LayerFixtures.python("""
            import os, random
            random.seed(\(files))
            words = 'the layer store keeps unpacked layers shared by every image and container'.split()
            for i in range(\(files)):
                d = '\(base)/upper/d%03d' % (i // 100)
                os.makedirs(d, exist_ok=True)
                text = ' '.join(random.choice(words) for _ in range(random.randint(20, 400)))
                with open('%s/f%05d' % (d, i), 'w') as f:
                    f.write('%d %s\\n' % (i, text))
            """)
        let upper = base + "/upper"
        let runs = 7
        var ours: [Double] = [], oursNull: [Double] = [], oursPlain: [Double] = [], floor: [Double] = []
        var ourDigest = "", blobBytes: Int64 = 0
        _ = try LayerFixtures.sh("tar -C '\(upper)' -cf - . > /dev/null")  // warm the page cache
        for _ in 0..<runs {
            let (seconds, digest, stored) = try timedPackIntoSha256sum(upper)
            ours.append(seconds)
            ourDigest = digest
            blobBytes = stored
            oursNull.append(try timed {
                let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
                defer { close(null) }
                _ = try LayerPacker().pack(directory: upper, to: null)
            })
            oursPlain.append(try timed {
                let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
                defer { close(null) }
                _ = try LayerPacker(options: .init(compression: .none)).pack(directory: upper, to: null)
            })
            floor.append(try timed { _ = try LayerFixtures.sh("tar -C '\(upper)' -cf - . | gzip | sha256sum") })
        }
        let o = median(ours), n = median(oursNull), p = median(oursPlain), f = median(floor)
        print(String(format: "layer pack benchmark: %5d files  pack|sha256sum %7.2f ms  pack>/dev/null %7.2f ms  uncompressed %7.2f ms  "
                         + "tar|gzip|sha256sum %7.2f ms  ratio %.2f  (blob %lld bytes, %@)",
                     files, o * 1000, n * 1000, p * 1000, f * 1000, o / f, blobBytes, String(ourDigest.prefix(12))))
    }

    private func timed(_ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// The store's path: the blob hashed as it is written (here by sha256sum at the end of a pipe,
    /// as the floor does).
    private func timedPackIntoSha256sum(_ upper: String) throws -> (Double, String, Int64) {
        var stored: Int64 = 0
        var digest = ""
        let seconds = try timed {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            let result = try LayerPacker().pack(directory: upper, to: input.fileHandleForWriting.fileDescriptor)
            try input.fileHandleForWriting.close()
            digest = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            stored = result.storedBytes
        }
        return (seconds, digest, stored)
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }
}
