import Foundation
import ImageStore
import Testing

/// The content-addressed blob store: verified on the way in and on the way out, never half
/// written under a digest.
@Suite("Blob store")
struct BlobStoreTests {
    /// A layout and a temporary directory under a fresh directory, removed afterwards.
    final class Scratch {
        let root: String
        let store: BlobStore

        init() throws {
            root = NSTemporaryDirectory() + "berth-blobs-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            store = BlobStore(layout: root + "/oci", temporaryDirectory: root + "/tmp")
        }

        var temporaryFiles: [String] { (try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? [] }

        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test("a blob lands under its digest with its content")
    func ingest() throws {
        let s = try Scratch()
        let (digest, size) = try s.store.ingest(Array("hello".utf8))
        #expect(digest == Digest.of(Array("hello".utf8)))
        #expect(size == 5)
        #expect(s.store.contains(digest))
        #expect(FileManager.default.contents(atPath: s.root + "/oci/blobs/sha256/" + digest.hex) == Data("hello".utf8))
        #expect(try s.store.read(digest) == Array("hello".utf8))
        #expect(s.store.all() == [digest])
        #expect(s.temporaryFiles.isEmpty)
    }

    @Test("content that is not what the digest says is refused and nothing is stored")
    func mismatch() throws {
        let s = try Scratch()
        let wrong = Digest.of(Array("other".utf8))
        let error = #expect(throws: ImageStoreError.self) { try s.store.ingest(Array("hello".utf8), expected: wrong) }
        #expect(error?.code == .corrupt)
        #expect(error?.description.contains("expected \(wrong)") == true)
        #expect(s.store.all().isEmpty)
        #expect(s.temporaryFiles.isEmpty)
    }

    @Test("a size that differs from the descriptor's is refused")
    func sizeMismatch() throws {
        let s = try Scratch()
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        _ = "hello".withCString { write(fds[1], $0, 5) }
        close(fds[1])
        defer { close(fds[0]) }
        let error = #expect(throws: ImageStoreError.self) { try s.store.ingest(from: fds[0], expectedSize: 3) }
        #expect(error?.code == .corrupt)
        #expect(s.store.all().isEmpty)
    }

    @Test("a blob damaged on disk is reported, not returned")
    func damaged() throws {
        let s = try Scratch()
        let (digest, _) = try s.store.ingest(Array("hello".utf8))
        try Data("hellO".utf8).write(to: URL(fileURLWithPath: s.store.path(of: digest)))
        let error = #expect(throws: ImageStoreError.self) { try s.store.read(digest) }
        #expect(error?.code == .corrupt)
    }

    @Test("a missing blob is notFound; remove is idempotent")
    func missing() throws {
        let s = try Scratch()
        let digest = Digest.of(Array("x".utf8))
        let error = #expect(throws: ImageStoreError.self) { try s.store.read(digest) }
        #expect(error?.code == .notFound)
        try s.store.ingest(Array("x".utf8))
        try s.store.remove(digest)
        try s.store.remove(digest)
        #expect(!s.store.contains(digest))
    }

    @Test("leftovers of an interrupted ingest are removed")
    func incomplete() throws {
        let s = try Scratch()
        try FileManager.default.createDirectory(atPath: s.root + "/tmp", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: s.root + "/tmp/blob-1-2", contents: Data("half".utf8)))
        s.store.removeIncomplete()
        #expect(s.temporaryFiles.isEmpty)
    }
}
