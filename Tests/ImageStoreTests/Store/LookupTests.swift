import Foundation
import JSON
import Testing
@testable import ImageStore

@Suite("Image store: names, ids and id prefixes", .enabled(if: getuid() == 0, "needs root: ownership in the fixture tree"))
struct LookupTests {
    @Test("a name parses as a reference, an id prefix, or both")
    func parse() throws {
        #expect(try ImageName.parse("busybox:1.35").reference?.description == "busybox:1.35")
        #expect(try ImageName.parse("busybox:1.35").idPrefix == nil)
        let both = try ImageName.parse("3f2a1b")
        #expect(both.reference?.description == "3f2a1b:latest" && both.idPrefix == "3f2a1b")
        #expect(try ImageName.parse("sha256:3f2a").reference == nil)
        #expect(try ImageName.parse("sha256:3f2a").idPrefix == "3f2a")
        #expect(throws: ImageStoreError.self) { try ImageName.parse("sha256:zz") }
    }

    @Test("a bad reference is .invalidReference, naming the text and what is wrong", arguments: ["BUSYBOX::x", "a//b", ""])
    func badReference(_ text: String) throws {
        let s = try ImageStoreTests.Scratch()
        let error = #expect(throws: ImageStoreError.self) { try s.store.resolve(text) }
        #expect(error?.code == .invalidReference)
        #expect(error?.description.hasPrefix("invalid image reference \"\(text)\": ") == true, "\(error.map { "\($0)" } ?? "")")
        #expect(error?.description.contains("\n") == false)
    }

    @Test("by tag, by id, by id prefix, by manifest digest; unknown is .notFound")
    func byID() throws {
        let s = try ImageStoreTests.Scratch()
        let image = try s.importTree("test/tree:v1")
        for name in ["test/tree:v1", image.id.hex, image.id.description, image.id.short, String(image.id.hex.prefix(3)),
                     "sha256:" + image.id.short, image.manifest.short] {
            #expect(try s.store.resolve(name).configDigest == image.id, "\(name)")
        }
        let error = #expect(throws: ImageStoreError.self) { try s.store.resolve("nope") }
        #expect(error?.code == .notFound)
        #expect(error?.description == "no image nope:latest in the store (see berth images)")
    }

    @Test("an id prefix two images share is .conflict, naming the prefix and the count")
    func ambiguous() throws {
        let s = try ImageStoreTests.Scratch()
        let first = try s.importTree("test/first:v1")
        let (manifest, config) = try s.documents("test/first:v1")
        // A second config whose digest shares the first's 3-character prefix: found by trying.
        let prefix = String(first.id.hex.prefix(3))
        var twin = config
        var n = 0
        var bytes: [UInt8] = []
        repeat {
            n += 1
            twin.author = "twin \(n)"
            bytes = try JSON.encode(twin)
        } while !Digest.of(bytes).hex.hasPrefix(prefix)
        let (twinID, twinSize) = try s.store.layout.blobs.ingest(bytes)
        var twinManifest = manifest
        twinManifest.config = .init(mediaType: OCIImage.MediaType.config, digest: twinID, size: twinSize)
        let (manifestDigest, manifestSize) = try s.store.layout.blobs.ingest(try JSON.encode(twinManifest))
        try s.store.layout.tag(try ImageReference.parse("test/twin:v1"),
                               manifest: .init(mediaType: OCIImage.MediaType.manifest, digest: manifestDigest, size: manifestSize))

        let error = #expect(throws: ImageStoreError.self) { try s.store.resolve(prefix) }
        #expect(error?.code == .conflict)
        #expect(error?.description.hasPrefix("image id prefix \(prefix) matches 2 images") == true, "\(error.map { "\($0)" } ?? "")")
        #expect(try s.store.resolve(twinID.short).configDigest == twinID)
    }

    @Test("a tag moved to another image leaves the old one untagged, still found by id")
    func dangling() throws {
        let s = try ImageStoreTests.Scratch()
        let old = try s.importTree("test/tree:v1")
        try LayerFixtures.sh("echo more > '\(s.source)/more'")
        let new = try s.importTree("test/tree:v1")
        #expect(old.id != new.id)
        #expect(try s.store.images().map(\.id) == [new.id])
        #expect(try s.store.images(includeUntagged: true).map(\.id) == [new.id, old.id])
        #expect(try s.store.resolve(old.id.short).configDigest == old.id)
        try s.store.tag(old.id.short, as: try ImageReference.parse("test/old:v1"))
        #expect(try s.store.images(includeUntagged: true).map(\.reference) == ["test/tree:v1", "test/old:v1"])
    }

    @Test("resolve(whileLocked:) runs its body with the image resolved")
    func whileLocked() throws {
        let s = try ImageStoreTests.Scratch()
        let image = try s.importTree("test/tree:v1")
        let id = try s.store.resolve("test/tree:v1") { (resolved: ResolvedImage) throws -> Digest in
            #expect(try s.store.images().count == 1, "reads inside the body are fine")
            return resolved.configDigest
        }
        #expect(id == image.id)
    }
}
