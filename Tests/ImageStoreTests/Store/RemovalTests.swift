import Foundation
import Testing
@testable import ImageStore

@Suite("Image store: rmi and prune", .enabled(if: getuid() == 0, "needs root: devices, trusted.* xattrs"))
struct RemovalTests {
    @Test("rmi by tag keeps the other tags; by id with several tags needs -f; then the content goes")
    func byTagAndID() throws {
        let s = try ImageStoreTests.Scratch()
        let image = try s.importTree("test/a:1")
        try s.store.tag("test/a:1", as: try ImageReference.parse("test/a:2"))
        try s.store.tag("test/a:1", as: try ImageReference.parse("test/a:3"))
        #expect(try s.store.removeImage("test/a:1", force: false, inUse: { [] }) == [.untagged("test/a:1")])
        #expect(try s.store.images().map(\.reference) == ["test/a:2", "test/a:3"])

        let error = #expect(throws: ImageStoreError.self) {
            try s.store.removeImage(image.id.short, force: false, inUse: { [] })
        }
        #expect(error?.code == .conflict)
        #expect(error?.description.contains("test/a:2, test/a:3") == true)
        #expect(try s.store.removeImage(image.id.short, force: true, inUse: { [] })
                == [.untagged("test/a:2"), .untagged("test/a:3"), .deleted(image.id)])
        #expect(try s.store.images(includeUntagged: true) == [])
        #expect(s.blobNames == [] && s.layerNames == [], "rmi deletes the image's content right away")
    }

    @Test("rmi of an image a container uses is refused; -f untags it and keeps it, found by id")
    func inUse() throws {
        let s = try ImageStoreTests.Scratch()
        let image = try s.importTree("busybox:1.35")
        let blobs = s.blobNames
        for name in ["busybox:1.35", image.id.short] {
            let error = #expect(throws: ImageStoreError.self) {
                try s.store.removeImage(name, force: false, inUse: { [image.manifest] })
            }
            #expect(error?.code == .conflict)
            #expect(error?.description == "image busybox:1.35 (\(image.id.short)) is used by a container; remove the container first or use -f")
        }
        #expect(try s.store.removeImage("busybox:1.35", force: true, inUse: { [image.manifest] }) == [.untagged("busybox:1.35")])
        #expect(try s.store.images() == [])
        #expect(try s.store.resolve(image.id.short).configDigest == image.id)
        #expect(s.blobNames == blobs)
        // Dangling but in use: prune keeps it; once unused, prune removes it.
        #expect(try s.store.prune(all: false, inUse: { [image.manifest] }).removed == [])
        #expect(s.blobNames == blobs)
        let report = try s.store.prune(all: false, inUse: { [] })
        #expect(report.removed == [.deleted(image.id)])
        #expect(report.deletedBlobs == 3 && report.deletedLayerDirectories == 1 && report.freedBytes > 0)
        #expect(s.blobNames == [] && s.layerNames == [])
    }

    @Test("prune removes exactly what no kept image reaches; -a also tagged images no container uses")
    func prune() throws {
        let s = try ImageStoreTests.Scratch()
        let base = try s.importTree("test/base:1")
        let tagged = try s.commit(try s.makeUpper("u1", content: "one"), on: base.manifest, as: "test/c:1")
        let used = try s.commit(try s.makeUpper("u2", content: "two"), on: base.manifest, as: nil)
        let dangling = try s.commit(try s.makeUpper("u3", content: "three"), on: base.manifest, as: nil)
        for id in [tagged.id, used.id, dangling.id] { _ = try s.store.resolve(id.short) }
        let junk = try s.store.layout.blobs.ingest(Array("left by an interrupted pull".utf8)).digest
        try LayerFixtures.sh("mkdir '\(s.store.layersDirectory)/\(Digest.of(Array("orphan".utf8)).hex)'")

        let baseContent = try s.contentOf(manifest: base.manifest)
        let taggedContent = try s.contentOf(manifest: tagged.manifest)
        let usedContent = try s.contentOf(manifest: used.manifest)
        let danglingContent = try s.contentOf(manifest: dangling.manifest)
        #expect(Set(s.blobNames) == baseContent.blobs.union(taggedContent.blobs).union(usedContent.blobs)
            .union(danglingContent.blobs).union([junk.hex]))

        let report = try s.store.prune(all: false, inUse: { [used.manifest] })
        #expect(report.removed == [.deleted(dangling.id)])
        #expect(Set(s.blobNames) == baseContent.blobs.union(taggedContent.blobs).union(usedContent.blobs))
        #expect(Set(s.layerNames) == baseContent.chains.union(taggedContent.chains).union(usedContent.chains))
        #expect(report.deletedBlobs == 4, "the dangling image's config, manifest and layer, and the junk blob")
        #expect(report.deletedLayerDirectories == 2)
        #expect(s.names(s.store.temporaryDirectory) == [])

        let all = try s.store.prune(all: true, inUse: { [used.manifest] })
        #expect(all.removed == [.untagged("test/base:1"), .untagged("test/c:1"), .deleted(base.id), .deleted(tagged.id)])
        #expect(Set(s.blobNames) == usedContent.blobs)
        #expect(Set(s.layerNames) == usedContent.chains)
        #expect(try s.store.resolve(used.id.short).layerDirectories.count == 2)
        #expect(try s.store.check() == [])
    }
}
