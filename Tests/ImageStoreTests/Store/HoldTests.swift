import Foundation
import Testing
@testable import ImageStore

@Suite("Image store: holds", .enabled(if: getuid() == 0, "needs root: devices, trusted.* xattrs"))
struct HoldTests {
    @Test("a held image survives prune -a; rmi refuses it naming the holder, -f only untags; a release lets prune take it")
    func heldUntilReleased() throws {
        let s = try ImageStoreTests.Scratch()
        let image = try s.importTree("shop:v1")
        let reason = "a rollback of service web of compose project demo (compose down releases it)"
        try s.store.hold([image.id.description, "no-such:image"], for: "compose-demo-web", reason: reason)
        #expect(try s.store.prune(all: true, inUse: { [] }).removed == [], "held: kept")
        #expect(try s.store.images().map(\.reference) == ["shop:v1"])
        for name in ["shop:v1", image.id.short] {
            let error = #expect(throws: ImageStoreError.self) { try s.store.removeImage(name, force: false, inUse: { [] }) }
            #expect(error?.code == .conflict)
            #expect(error?.description == "image shop:v1 (\(image.id.short)) is kept for \(reason); use -f to untag it anyway")
        }
        // A container's use is named before the hold: removing the container is the first step.
        let used = #expect(throws: ImageStoreError.self) { try s.store.removeImage("shop:v1", force: false, inUse: { [image.manifest] }) }
        #expect(used?.description.contains("is used by a container") == true)
        #expect(try s.store.removeImage("shop:v1", force: true, inUse: { [] }) == [.untagged("shop:v1")])
        #expect(try s.store.resolve(image.id.short).configDigest == image.id, "untagged, still found by id for the rollback")
        #expect(try s.store.prune(all: true, inUse: { [] }).removed == [])

        s.store.releaseHold("compose-demo-web")
        #expect(try s.store.prune(all: true, inUse: { [] }).removed == [.deleted(image.id)])
        #expect(s.blobNames == [] && s.layerNames == [])
        #expect(throws: ImageStoreError.self) { try s.store.hold([], for: "../x", reason: "r") }
    }
}
