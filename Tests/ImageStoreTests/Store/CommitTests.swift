import Foundation
import Testing
@testable import ImageStore

@Suite("Image store: commit and history", .enabled(if: getuid() == 0, "needs root: devices, trusted.* xattrs"))
struct CommitTests {
    @Test("an upper dir with a whiteout and an opaque dir becomes a second layer; the layer is unpacked on first resolve")
    func commitUpper() throws {
        let s = try ImageStoreTests.Scratch()
        let base = try s.importTree("test/base:v1", comment: "base")
        let upper = try s.makeUpper()
        let result = try s.commit(upper, on: base.manifest, as: "test/commit:v1")

        let (manifest, config) = try s.documents("test/commit:v1")
        #expect(manifest.layers.count == 2)
        #expect(manifest.layers.last == result.layer)
        #expect(manifest.config.digest == result.id.description)
        #expect(config.rootfs.diffIDs.last == result.diffID.description)
        #expect(config.created == ImageStoreTests.date && config.author == "me <me@example.com>")
        #expect(config.history?.count == 2)
        #expect(config.history?.last == OCIImage.History(created: ImageStoreTests.date, createdBy: "berth commit",
                                                         author: "me <me@example.com>", comment: "a change"))
        #expect(try s.store.images().map(\.reference) == ["test/base:v1", "test/commit:v1"])
        #expect(s.layerNames.count == 1, "commit does not unpack its layer: resolve does, on first use")

        let resolved = try s.store.resolve("test/commit:v1")
        #expect(resolved.layerDirectories.count == 2)
        let top = resolved.layerDirectories[0]
        #expect(try String(contentsOfFile: top + "/added.txt", encoding: .utf8) == "added\n")
        let whiteout = try #require(LayerFixtures.lstatOf(top + "/etc/motd"))
        #expect(whiteout.st_mode & S_IFMT == S_IFCHR && whiteout.st_rdev == 0, "the .wh. entry became a whiteout again")
        #expect(XattrTarget.path(Array((top + "/empty").utf8)).value("trusted.overlay.opaque") == Array("y".utf8))
        #expect(FileManager.default.fileExists(atPath: top + "/empty/fresh"))

        let history = try s.store.history("test/commit:v1")
        #expect(history.map(\.id) == [result.id, nil])
        #expect(history.map(\.createdBy) == ["berth commit", "berth import"])
        #expect(history.map(\.comment) == ["a change", "base"])
        #expect(history.map(\.size) == manifest.layers.reversed().map(\.size))
        #expect(history[0].author == "me <me@example.com>")

        // The same upper dir again: the same layer, and an untagged image found by its id.
        let again = try s.commit(upper, on: base.manifest, as: nil, author: nil, message: nil)
        #expect(again.layer == result.layer)
        #expect(again.id != result.id, "a different author and comment make a different config")
        #expect(try s.store.images().count == 2)
        #expect(try s.store.images(includeUntagged: true).last?.reference == ImageSummary.untaggedReference)
        #expect(try s.store.resolve(again.id.short).configDigest == again.id)
        #expect(s.names(s.store.temporaryDirectory) == [])
        #expect(try s.store.check() == [])
    }

    @Test("an empty upper dir still makes a layer; a missing parent is .notFound")
    func emptyAndMissingParent() throws {
        let s = try ImageStoreTests.Scratch()
        let base = try s.importTree("test/base:v1")
        try LayerFixtures.sh("mkdir '\(s.base)/empty-upper'")
        let result = try s.commit(s.base + "/empty-upper", on: base.manifest, as: "test/empty:v1")
        let (manifest, config) = try s.documents("test/empty:v1")
        #expect(manifest.layers.count == 2 && config.history?.last?.emptyLayer == nil)
        #expect(result.layerSize > 0)
        #expect(try s.store.resolve("test/empty:v1").layerDirectories.count == 2)

        let error = #expect(throws: ImageStoreError.self) {
            try s.commit(s.base + "/empty-upper", on: Digest.of(Array("nothing".utf8)), as: "test/x:v1")
        }
        #expect(error?.code == .notFound)
    }

    @Test("config changes apply to the new config only")
    func configChanges() throws {
        let s = try ImageStoreTests.Scratch()
        let base = try s.importTree("test/base:v1")
        try LayerFixtures.sh("mkdir '\(s.base)/u'")
        _ = try s.store.commit(upperDirectory: s.base + "/u", parent: base.manifest, as: try ImageReference.parse("test/cmd:v1"),
                               author: nil, message: nil, createdBy: "berth commit", date: ImageStoreTests.date) {
            $0.config?.cmd = ["/bin/sh", "-c", "echo hi"]
        }
        #expect(try s.documents("test/cmd:v1").1.config?.cmd == ["/bin/sh", "-c", "echo hi"])
        #expect(try s.documents("test/base:v1").1.config?.cmd == nil)
    }
}
