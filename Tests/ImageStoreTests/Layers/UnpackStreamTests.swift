import Foundation
import Testing
@testable import ImageStore

/// Compression detection, byte counts and the observer, on tars GNU tar writes.
@Suite("Layer unpack: streams")
struct UnpackStreamTests {
    @Test("gzip, zstd, xz and plain tars unpack the same, and report their sizes", arguments: [
        ("", LayerCompression.none), ("gzip -n", .gzip), ("zstd -q", .zstd), ("xz", .xz),
    ])
    func compressions(compressor: String, expected: LayerCompression) throws {
        let base = try LayerFixtures.makeTemporaryDirectory("stream")
        defer { LayerFixtures.remove(base) }
        try LayerFixtures.sh("""
            mkdir -p '\(base)/src/dir/sub' '\(base)/out'
            echo hello > '\(base)/src/dir/file'
            head -c 300000 /dev/urandom > '\(base)/src/dir/sub/random'
            ln -s file '\(base)/src/dir/link'
            tar -C '\(base)/src' -cf '\(base)/layer.tar' .
            """)
        var blob = base + "/layer.tar"
        if !compressor.isEmpty {
            blob = base + "/layer.blob"
            try LayerFixtures.sh("\(compressor) -c '\(base)/layer.tar' > '\(blob)'")
        }
        var stored = 0, uncompressed = 0
        var storedBytes = Data(), tarBytes = Data()
        let observer = LayerStreamObserver(
            stored: { stored += $0.count; storedBytes.append(contentsOf: $0) },
            uncompressed: { uncompressed += $0.count; tarBytes.append(contentsOf: $0) })
        let result = try LayerFixtures.unpack(blob, into: base + "/out", observer: observer)

        let tarSize = Int64(try FileManager.default.attributesOfItem(atPath: base + "/layer.tar")[.size] as? Int ?? -1)
        let blobSize = Int64(try FileManager.default.attributesOfItem(atPath: blob)[.size] as? Int ?? -1)
        #expect(result.compression == expected)
        #expect(result.uncompressedBytes == tarSize)
        #expect(result.storedBytes == blobSize)
        #expect(Int64(uncompressed) == tarSize)
        #expect(Int64(stored) == blobSize)
        // The observer saw exactly the file's bytes, in order: the store's digests will be right.
        #expect(tarBytes == FileManager.default.contents(atPath: base + "/layer.tar"))
        #expect(storedBytes == FileManager.default.contents(atPath: blob))
        #expect(result.entries == 6)
        try LayerFixtures.sh("diff -r '\(base)/src' '\(base)/out'")
    }

    @Test("junk is a bad archive, not a crash")
    func junk() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("junk")
        defer { LayerFixtures.remove(base) }
        try LayerFixtures.sh("mkdir '\(base)/out' && head -c 5000 /dev/urandom > '\(base)/junk' && : > '\(base)/empty'")
        for file in ["junk", "empty"] {
            let error = #expect(throws: LayerError.self) { try LayerFixtures.unpack(base + "/" + file, into: base + "/out") }
            #expect(error?.code == .badArchive)
        }
    }

    @Test("a zip is refused: only tar is a layer")
    func zip() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("zip")
        defer { LayerFixtures.remove(base) }
        try LayerFixtures.python("""
            import zipfile
            with zipfile.ZipFile('\(base)/layer.zip', 'w') as z:
                z.writestr('hello', 'hi')
            """)
        try LayerFixtures.sh("mkdir '\(base)/out'")
        let error = #expect(throws: LayerError.self) { try LayerFixtures.unpack(base + "/layer.zip", into: base + "/out") }
        #expect(error?.code == .badArchive)
        #expect(try LayerFixtures.listing(base + "/out").isEmpty)
    }

    @Test("GNU tar's own forms: sparse files stay sparse, long and UTF-8 names survive", arguments: ["gnu", "pax", "posix"])
    func gnuTarForms(format: String) throws {
        let base = try LayerFixtures.makeTemporaryDirectory("gnuforms")
        defer { LayerFixtures.remove(base) }
        let long = String(repeating: "a-rather-long-directory-name/", count: 8)
        try LayerFixtures.sh("""
            set -e
            mkdir -p '\(base)/src/\(long)' '\(base)/out'
            echo deep > '\(base)/src/\(long)/file'
            echo unicode > '\(base)/src/héllo wörld ✓'
            truncate -s 64M '\(base)/src/sparse'
            printf middle | dd of='\(base)/src/sparse' bs=1 seek=33554432 conv=notrunc status=none
            tar --format=\(format) -S -C '\(base)/src' -cf '\(base)/layer.tar' .
            """)
        _ = try LayerFixtures.unpack(base + "/layer.tar", into: base + "/out")
        try LayerFixtures.sh("diff -r '\(base)/src' '\(base)/out'")
        let sparse = try #require(LayerFixtures.lstatOf(base + "/out/sparse"))
        #expect(sparse.st_size == 64 << 20)
        #expect(sparse.st_blocks * 512 < 1 << 20)
    }
}
