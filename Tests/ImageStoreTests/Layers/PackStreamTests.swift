import Foundation
import Testing
@testable import ImageStore

/// What the packer writes and shows the store, and what it refuses.
@Suite("Layer pack: streams and refusals")
struct PackStreamTests {
    @Test("the observer sees the tar (for the diff_id) and the gzip blob (for the digest), byte for byte")
    func observer() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("packstream")
        defer { LayerFixtures.remove(base) }
        try LayerFixtures.sh("mkdir -p '\(base)/upper/d' && echo x > '\(base)/upper/d/f' && head -c 100000 /dev/urandom > '\(base)/upper/r'")
        var tar = Data(), blob = Data()
        let result = try LayerFixtures.pack(base + "/upper", to: base + "/layer.tar.gz", options: .init(compression: .gzip, compressionLevel: 1),
                                            observer: .init(stored: { blob.append(contentsOf: $0) }, uncompressed: { tar.append(contentsOf: $0) }))
        #expect(blob == FileManager.default.contents(atPath: base + "/layer.tar.gz"))
        try LayerFixtures.sh("gzip -dc '\(base)/layer.tar.gz' > '\(base)/layer.tar'")
        #expect(tar == FileManager.default.contents(atPath: base + "/layer.tar"))
        #expect(result.uncompressedBytes == Int64(tar.count) && result.storedBytes == Int64(blob.count))
        #expect(result.entries == 3)
        #expect(tar.count % 512 == 0, "the tar ends after its end blocks, with no 10 KiB record padding beyond")
        #expect(try LayerFixtures.sh("tar -tf '\(base)/layer.tar'") == "d/\nd/f\nr\n")
    }

    @Test("an upper dir written with redirect_dir or metacopy is refused, naming the entry",
          .enabled(if: LayerFixtures.isRoot, "needs root for trusted.* xattrs"),
          arguments: ["trusted.overlay.redirect", "trusted.overlay.metacopy"])
    func redirectAndMetacopy(xattr: String) throws {
        let base = try LayerFixtures.makeTemporaryDirectory("redirect")
        defer { LayerFixtures.remove(base) }
        try LayerFixtures.sh("mkdir -p '\(base)/upper/dir' && echo x > '\(base)/upper/dir/file'")
        try LayerFixtures.setXattr(base + "/upper/dir/file", xattr, Array("/elsewhere".utf8))
        let error = #expect(throws: LayerError.self) { try LayerFixtures.pack(base + "/upper", to: base + "/l.tar") }
        #expect(error?.code == .unsupported)
        #expect(error?.entry == "dir/file")
    }

    /// Issue 11: `echo notes > /etc/.wh.group` then commit gave an image without /etc/group, and
    /// `touch /etc/.wh..wh..opq` one with an empty /etc.
    @Test("a container's own file named .wh.* is refused by pack and by diff, naming it, not turned into a deletion",
          arguments: [".wh.group", ".wh..wh..opq"])
    func filesNamedLikeWhiteouts(name: String) throws {
        let base = try LayerFixtures.makeTemporaryDirectory("whname")
        defer { LayerFixtures.remove(base) }
        try LayerFixtures.sh("mkdir -p '\(base)/upper/etc' && echo notes > '\(base)/upper/etc/\(name)' && echo x > '\(base)/upper/etc/a'")
        let packError = #expect(throws: LayerError.self) { try LayerFixtures.pack(base + "/upper", to: base + "/l.tar") }
        #expect(packError?.code == .unsupported)
        #expect(packError?.entry == "etc/" + name)
        #expect(packError?.description.contains("cannot be stored in an image layer") == true, "\(packError?.description ?? "")")
        let diffError = #expect(throws: LayerError.self) {
            try LayerDiff.changes(upperDirectory: base + "/upper", lower: { _ in nil })
        }
        #expect(diffError?.entry == "/etc/" + name)
    }

    @Test("a write error is an error, not a crash or a short tar")
    func writeError() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("writeerror")
        defer { LayerFixtures.remove(base) }
        try LayerFixtures.sh("mkdir -p '\(base)/upper' && head -c 300000 /dev/urandom > '\(base)/upper/r' && : > '\(base)/ro'")
        let fd = open(base + "/ro", O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        let error = #expect(throws: LayerError.self) { try LayerPacker().pack(directory: base + "/upper", to: fd) }
        #expect(error?.code == .systemError)
        #expect(error?.errno == EBADF)
    }
}
