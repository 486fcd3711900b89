import Foundation
import Testing
@testable import ImageStore

/// Issue 11: `load` and `commit` store their blobs under the shared lock and record them under
/// the exclusive one; a prune in between deleted them ("blob … is not in the store" in 739 of
/// 1 194 loads). A pin keeps them while its writer lives.
@Suite("blob pins", .enabled(if: getuid() == 0, "needs root: the store's imports keep ownership"))
struct BlobPinTests {
    @Test func aPinnedBlobOutlivesAPruneAndGoesOnceReleased() throws {
        let s = try ImageStoreTests.Scratch()
        let (digest, _) = try s.store.layout.blobs.ingest(Array("not named by any image".utf8))
        let pin = try s.store.withLock(.shared) { try s.store.pinBlobs([digest]) }
        _ = try s.store.prune(all: true, inUse: { [] })
        #expect(s.store.layout.blobs.contains(digest))
        pin.release()
        _ = try s.store.prune(all: true, inUse: { [] })
        #expect(!s.store.layout.blobs.contains(digest))
        #expect(s.names(s.store.pinsDirectory).isEmpty)
    }

    @Test func aPinNobodyHoldsIsAWriterThatDied() throws {
        let s = try ImageStoreTests.Scratch()
        let (digest, _) = try s.store.layout.blobs.ingest(Array("left by a killed load".utf8))
        try FileManager.default.createDirectory(atPath: s.store.pinsDirectory, withIntermediateDirectories: true)
        try Data((digest.description + "\n").utf8).write(to: URL(fileURLWithPath: s.store.pinsDirectory + "/1-2-3"))
        _ = try s.store.prune(all: true, inUse: { [] })
        #expect(!s.store.layout.blobs.contains(digest))
        #expect(s.names(s.store.pinsDirectory).isEmpty)
    }
}
