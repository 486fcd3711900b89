import Foundation
import Testing
@testable import ImageStore

/// Input the store refuses with one sentence, leaving nothing behind (issue 11): a state root
/// overlayfs cannot mount from, a directory import holding device nodes, an archive listing no image.
@Suite("Image store: refused input")
struct InputRefusalTests {
    @Test("a state root with ',', ':' or a backslash is refused before anything is created",
          arguments: [",", ":", "\\"])
    func unsafeStateRoot(_ character: String) throws {
        let base = try LayerFixtures.makeTemporaryDirectory("root")
        defer { LayerFixtures.remove(base) }
        let root = base + "/state\(character)root"
        let error = try #require(throws: ImageStoreError.self) { try ImageStore(root: root) }
        #expect(error.code == .invalidArgument)
        #expect(error.description.contains(root) && error.description.contains("'\(character)'"), "\(error)")
        #expect(error.description.contains("choose a state directory"), "\(error)")
        #expect(!FileManager.default.fileExists(atPath: root))
    }

    @Test("a directory import with a device node is refused, naming the file, unless devices are allowed",
          .enabled(if: getuid() == 0, "needs root: mknod"))
    func devicesInADirectory() throws {
        let s = try ImageStoreTests.Scratch()
        try LayerFixtures.mknod(s.source + "/etc/null", S_IFCHR, major: 1, minor: 3)
        let error = try #require(throws: ImageStoreError.self) { try s.importTree("test/dev:v1") }
        #expect(error.code == .rejected || error.code == .deviceNotAllowed, "\(error)")
        #expect(error.description.contains("etc/null") && error.description.contains("1:3"), "\(error)")
        #expect(error.description.contains("does not allow devices"), "\(error)")
        #expect(try s.store.images().isEmpty)
        #expect(s.names(s.store.temporaryDirectory) == [])

        var options = ImageStore.ImportOptions()
        options.allowDevices = true
        try s.store.importImage(from: .directory(s.source), as: try ImageReference.parse("test/dev:v1"),
                                comment: nil, createdBy: "berth import", date: ImageStoreTests.date, options: options)
        let layer = try #require(try s.store.resolve(try ImageReference.parse("test/dev:v1")).layerDirectories.first)
        let device = try #require(LayerFixtures.lstatOf(layer + "/etc/null"))
        #expect(device.st_mode & S_IFMT == S_IFCHR)
    }

    @Test("an archive listing no image (manifest.json [] or an empty index.json) is refused naming the file",
          .enabled(if: getuid() == 0, "needs root: the store's scratch tree"),
          arguments: ["docker", "oci"])
    func emptyArchive(_ kind: String) throws {
        let s = try ImageStoreTests.Scratch()
        let dir = s.base + "/archive"
        let tar = s.base + "/empty-\(kind).tar"
        try LayerFixtures.sh(kind == "docker"
            ? "set -e; mkdir '\(dir)'; printf '[]' > '\(dir)/manifest.json'; tar -C '\(dir)' -cf '\(tar)' manifest.json"
            : """
              set -e; mkdir -p '\(dir)/blobs/sha256'; printf '{"imageLayoutVersion":"1.0.0"}' > '\(dir)/oci-layout'
              printf '{"schemaVersion":2,"manifests":[]}' > '\(dir)/index.json'
              tar -C '\(dir)' -cf '\(tar)' oci-layout index.json blobs
              """)
        let indexBefore = try Data(contentsOf: URL(fileURLWithPath: s.root + "/oci/index.json"))
        let error = try #require(throws: ImageStoreError.self) { try s.store.load(fromFile: tar) }
        #expect(error.description.contains(tar) && error.description.contains("no images"), "\(error)")
        #expect(error.description.contains(kind == "docker" ? "manifest.json" : "index.json"), "\(error)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: s.root + "/oci/index.json")) == indexBefore)
        #expect(s.names(s.store.temporaryDirectory) == [])
    }
}
