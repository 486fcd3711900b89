import Foundation
import JSON
import Testing
@testable import ImageStore

/// The store facade: import, list, resolve, tag, and what a crash or bad input leaves behind.
@Suite("Image store", .enabled(if: getuid() == 0, "needs root: ownership, devices, trusted.* xattrs"))
struct ImageStoreTests {
    static let date = "2026-11-25T12:00:00Z"

    /// A store in a fresh temporary root, and a small source tree beside it.
    final class Scratch {
        let base: String
        var root: String { base + "/root" }
        var source: String { base + "/src" }
        private(set) var store: ImageStore

        init() throws {
            base = try LayerFixtures.makeTemporaryDirectory("store")
            store = try ImageStore(root: base + "/root")
            try LayerFixtures.sh("""
                set -e; cd '\(base)'; mkdir -p src/etc src/bin src/empty
                printf 'hello\\n' > src/etc/motd; printf 'root:x:0:0::/root:/bin/sh\\n' > src/etc/passwd
                head -c 70000 /dev/urandom > src/bin/tool; chmod 0755 src/bin/tool
                ln -s ../etc/motd src/bin/motd-link; ln src/etc/motd src/etc/motd-hard
                chown 1000:1000 src/etc/passwd; chmod 0640 src/etc/passwd; chmod 0700 src/empty
                touch -h -d '2024-01-02 03:04:05' src/etc/motd src/bin/tool src/bin/motd-link src/etc/passwd src/empty src/etc src/bin
                """)
        }

        deinit { LayerFixtures.remove(base) }

        func reopen() throws { store = try ImageStore(root: root) }

        @discardableResult
        func importTree(_ ref: String, from source: ImportSource? = nil, comment: String? = nil) throws -> ImageSummary {
            try store.importImage(from: source ?? .directory(self.source), as: try ImageReference.parse(ref),
                                  comment: comment, createdBy: "berth import", date: ImageStoreTests.date)
        }

        /// The manifest and config a tag names, read straight from the layout.
        func documents(_ ref: String) throws -> (OCIImage.Manifest, OCIImage.Configuration) {
            let descriptor = try store.layout.resolve(try ImageReference.parse(ref))
            let manifest = try JSON.decode(OCIImage.Manifest.self, from: try store.layout.blobs.read(try descriptor.parsedDigest()))
            let config = try JSON.decode(OCIImage.Configuration.self, from: try store.layout.blobs.read(try manifest.config.parsedDigest()))
            return (manifest, config)
        }

        func blobPath(_ descriptor: OCIImage.Descriptor) throws -> String {
            store.layout.blobs.path(of: try descriptor.parsedDigest())
        }

        func names(_ directory: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        }
    }

    static func sha256(_ command: String) throws -> String {
        "sha256:" + String(try LayerFixtures.sh("\(command) | sha256sum").prefix(64))
    }

    @Test("a directory becomes a one-layer image: digests, config, unpacked layer, resolve")
    func importDirectory() throws {
        let s = try Scratch()
        let summary = try s.importTree("test/tree:v1", comment: "first")

        let images = try s.store.images()
        #expect(images == [summary])
        #expect(summary.reference == "test/tree:v1")
        #expect(summary.layerCount == 1)
        #expect(summary.created == Self.date)

        let (manifest, config) = try s.documents("test/tree:v1")
        #expect(summary.id.description == manifest.config.digest)
        #expect(summary.size == manifest.config.size + manifest.layers[0].size)
        let layer = manifest.layers[0]
        #expect(layer.mediaType == OCIImage.MediaType.layerGzip)
        let blob = try s.blobPath(layer)
        #expect(try Self.sha256("cat '\(blob)'") == layer.digest)
        #expect(config.rootfs.diffIDs == [try Self.sha256("gzip -dc '\(blob)'")])
        #expect(config.architecture == "amd64" && config.os == "linux")
        #expect(config.config?.env?.first?.hasPrefix("PATH=") == true)
        #expect(config.history == [OCIImage.History(created: Self.date, createdBy: "berth import", comment: "first")])

        let diffID = try Digest.parse(config.rootfs.diffIDs[0])
        let layerDir = s.store.layerDirectory(chainID: diffID)
        let differences = TreeSnapshot.differences(try TreeSnapshot.take(s.source), try TreeSnapshot.take(layerDir))
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")

        let resolved = try s.store.resolve(try ImageReference.parse("test/tree:v1"))
        #expect(resolved.layerDirectories == [layerDir])
        #expect(resolved.config == config)
        #expect(resolved.manifest == manifest)
        #expect(s.names(s.store.temporaryDirectory) == [])
    }

    @Test("the same tree twice gives the same layer blob and layer directory, under two tags")
    func deterministic() throws {
        let s = try Scratch()
        let first = try s.importTree("test/tree:v1")
        let second = try s.importTree("test/tree:v2")
        let (m1, _) = try s.documents("test/tree:v1")
        let (m2, _) = try s.documents("test/tree:v2")
        #expect(m1.layers == m2.layers)
        #expect(first.id == second.id)
        #expect(try s.store.images().map(\.reference) == ["test/tree:v1", "test/tree:v2"])
        #expect(s.names(s.store.layersDirectory).count == 1)
        // layer, config, manifest: nothing stored twice.
        #expect(s.names(s.store.layout.blobs.directory).count == 3)
    }

    @Test("a tar.gz made by GNU tar imports to the same tree", arguments: ["czf", "cf"])
    func importTar(_ flags: String) throws {
        let s = try Scratch()
        try LayerFixtures.sh("tar -C '\(s.source)' -\(flags) '\(s.base)/in.tar' .")
        let fromTar = try s.importTree("test/tar:v1", from: .tarFile(s.base + "/in.tar"))
        let fromDir = try s.importTree("test/dir:v1")
        #expect(fromTar.id == fromDir.id, "the stored layer is normalised, whatever made the tar")
        let resolved = try s.store.resolve(try ImageReference.parse("test/tar:v1"))
        let dir = try #require(resolved.layerDirectories.first)
        let differences = TreeSnapshot.differences(try TreeSnapshot.take(s.source), try TreeSnapshot.take(dir))
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    }

    @Test("a hostile tar is refused, naming the entry, and the store is as it was",
          arguments: [("file('ok', b'fine'); file('../evil', b'x')", "../evil"),
                      ("device('mem', tarfile.CHRTYPE, 1, 1)", "mem")])
    func hostileTar(_ members: String, _ entry: String) throws {
        let s = try Scratch()
        try s.importTree("test/tree:v1")
        try LayerFixtures.python("""
            import tarfile, io
            t = tarfile.open('\(s.base)/hostile.tar', 'w', format=tarfile.PAX_FORMAT)
            def file(name, data):
                i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; t.addfile(i, io.BytesIO(data))
            def device(name, kind, major, minor):
                i = tarfile.TarInfo(name); i.type = kind; i.devmajor = major; i.devminor = minor; i.mode = 0o600; t.addfile(i)
            \(members)
            t.close()
            """)
        let index = try Data(contentsOf: URL(fileURLWithPath: s.store.layout.path + "/index.json"))
        let blobs = s.names(s.store.layout.blobs.directory)
        let layers = s.names(s.store.layersDirectory)

        let error = #expect(throws: ImageStoreError.self) {
            try s.importTree("test/evil:v1", from: .tarFile(s.base + "/hostile.tar"))
        }
        #expect(error?.code == .rejected)
        #expect(error?.description.contains("\"\(entry)\"") == true, "\(error.map { "\($0)" } ?? "no error")")
        #expect(try Data(contentsOf: URL(fileURLWithPath: s.store.layout.path + "/index.json")) == index)
        #expect(s.names(s.store.layout.blobs.directory) == blobs)
        #expect(s.names(s.store.layersDirectory) == layers)
        #expect(s.names(s.store.temporaryDirectory) == [])
        #expect(!FileManager.default.fileExists(atPath: s.base + "/evil"))
        #expect(!FileManager.default.fileExists(atPath: s.root + "/evil"))
    }

    @Test("skopeo reads an imported image from the layout")
    func skopeo() throws {
        let s = try Scratch()
        let summary = try s.importTree("test/tree:v1")
        let output = try LayerFixtures.sh("skopeo inspect --raw 'oci:\(s.store.layout.path):test/tree:v1'")
        let manifest = try JSON.decode(OCIImage.Manifest.self, from: output)
        #expect(manifest.config.digest == summary.id.description)
        let config = try LayerFixtures.sh("skopeo inspect --config 'oci:\(s.store.layout.path):test/tree:v1'")
        #expect(config.contains("\"diff_ids\""))
        _ = try LayerFixtures.sh("skopeo inspect 'oci:\(s.store.layout.path):test/tree:v1'")
    }

    /// Issue 11: `run alpha@sha256:<digest of beta:1>` ran beta, and `rmi -f nonexistent@sha256:…`
    /// removed every name of that image.
    @Test("a digest reference names an image only in its own repository")
    func digestReferencesKeepTheirRepository() throws {
        let s = try Scratch()
        try s.importTree("beta:1")
        let manifest = try s.store.resolve("beta:1").manifestDigest
        #expect(try s.store.resolve("beta@\(manifest)").manifestDigest == manifest)
        #expect(try s.store.resolve(try ImageReference.parse("beta@\(manifest)")).manifestDigest == manifest)
        for other in ["alpha@\(manifest)", "nonexistent@\(manifest)"] {
            let error = #expect(throws: ImageStoreError.self) { try s.store.resolve(other) }
            #expect(error?.code == .notFound)
            #expect(error?.description.contains("has no image with that digest") == true, "\(error?.description ?? "")")
            #expect(throws: ImageStoreError.self) { try s.store.resolve(try ImageReference.parse(other)) }
            #expect(throws: ImageStoreError.self) { try s.store.removeImage(other, force: true, inUse: { [] }) }
        }
        #expect(try s.store.images().map(\.reference) == ["beta:1"])
    }

    @Test("tag and untag; a missing reference is .notFound with a sentence")
    func tags() throws {
        let s = try Scratch()
        let summary = try s.importTree("test/tree:v1")
        try s.store.tag(try ImageReference.parse("test/tree:v1"), as: try ImageReference.parse("other:latest"))
        #expect(try s.store.images().map(\.reference) == ["test/tree:v1", "other:latest"])
        #expect(try s.store.images().allSatisfy { $0.id == summary.id })
        try s.store.untag(try ImageReference.parse("test/tree:v1"))
        #expect(try s.store.images().map(\.reference) == ["other:latest"])

        let error = #expect(throws: ImageStoreError.self) {
            try s.store.resolve(try ImageReference.parse("test/tree:v1"))
        }
        #expect(error?.code == .notFound)
        #expect(error?.description == "no image test/tree:v1 in the store (see berth images)")
        #expect(throws: ImageStoreError.self) { try s.store.untag(try ImageReference.parse("nope")) }
    }

    @Test("a damaged layer blob is found when resolve has to unpack it, and leaves no layer directory")
    func corruptBlob() throws {
        let s = try Scratch()
        try s.importTree("test/tree:v1")
        let (manifest, _) = try s.documents("test/tree:v1")
        let blob = try s.blobPath(manifest.layers[0])
        try LayerFixtures.sh("rm -rf '\(s.store.layersDirectory)' && mkdir '\(s.store.layersDirectory)'")
        // One byte changed in the middle of the compressed stream.
        try LayerFixtures.sh("printf 'X' | dd of='\(blob)' bs=1 seek=200 conv=notrunc status=none")

        let error = #expect(throws: ImageStoreError.self) {
            try s.store.resolve(try ImageReference.parse("test/tree:v1"))
        }
        #expect(error?.code == .corrupt, "\(error.map { "\($0)" } ?? "no error")")
        #expect(error?.description.contains(manifest.layers[0].digest) == true)
        #expect(s.names(s.store.layersDirectory) == [])
        #expect(s.names(s.store.temporaryDirectory) == [])
    }

    @Test("a layer directory removed is unpacked again by resolve, the same tree")
    func reunpack() throws {
        let s = try Scratch()
        try s.importTree("test/tree:v1")
        try LayerFixtures.sh("rm -rf '\(s.store.layersDirectory)' && mkdir '\(s.store.layersDirectory)'")
        let resolved = try s.store.resolve(try ImageReference.parse("test/tree:v1"))
        let dir = try #require(resolved.layerDirectories.first)
        let differences = TreeSnapshot.differences(try TreeSnapshot.take(s.source), try TreeSnapshot.take(dir))
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    }

    @Test("opening the store removes what an interrupted operation left in tmp/")
    func crashLeftovers() throws {
        let s = try Scratch()
        try s.importTree("test/tree:v1")
        let tmp = s.store.temporaryDirectory
        try LayerFixtures.sh("""
            set -e; echo half > '\(tmp)/blob-123-456'; mkdir -p '\(tmp)/layer-9-abc/etc/deep'
            echo x > '\(tmp)/layer-9-abc/etc/deep/f'; ln -s / '\(tmp)/layer-9-abc/root-link'
            mkdir -p '\(tmp)/import-9-def/tree'; echo y > '\(tmp)/import-9-def/layer.tar.gz'
            echo '{}' > '\(s.store.layout.path)/index.json.tmp-77'
            """)
        try s.reopen()
        #expect(s.names(tmp) == [])
        #expect(!FileManager.default.fileExists(atPath: s.store.layout.path + "/index.json.tmp-77"))
        #expect(try s.store.images().map(\.reference) == ["test/tree:v1"])
        #expect(FileManager.default.fileExists(atPath: "/etc/passwd"), "the symlink to / was not followed")
    }
}
