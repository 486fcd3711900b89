import Foundation
import ImageStore
import JSON
import Testing

/// The image layout on disk: tags in index.json, and standard tools reading it as it is.
@Suite("OCI image layout")
struct OCILayoutTests {
    final class Scratch {
        let root: String
        let layout: OCILayout

        init() throws {
            root = NSTemporaryDirectory() + "berth-layout-\(UUID().uuidString)"
            layout = try OCILayout(path: root + "/oci", temporaryDirectory: root + "/tmp")
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        /// A small real image: one layer holding /greeting, its config and manifest.
        func storeImage(text: String) throws -> OCIImage.Descriptor {
            let dir = root + "/src-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try text.write(toFile: dir + "/greeting", atomically: false, encoding: .utf8)
            let tarPath = root + "/layer.tar"
            let tar = Process()
            tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
            tar.arguments = ["-C", dir, "-cf", tarPath, "greeting"]
            try tar.run()
            tar.waitUntilExit()
            let layerBytes = Array(try Data(contentsOf: URL(fileURLWithPath: tarPath)))
            let (layerDigest, layerSize) = try layout.blobs.ingest(layerBytes)
            let config = OCIImage.Configuration(
                created: "2026-11-25T00:00:00Z", author: nil, architecture: "amd64", os: "linux",
                config: OCIImage.ExecutionConfig(env: ["PATH=/bin"], cmd: ["/bin/sh"]),
                rootfs: OCIImage.RootFS(diffIDs: [layerDigest]),
                history: [OCIImage.History(created: "2026-11-25T00:00:00Z", createdBy: "test")])
            let (configDigest, configSize) = try layout.blobs.ingest(try JSON.encode(config))
            let manifest = OCIImage.Manifest(
                config: .init(mediaType: OCIImage.MediaType.config, digest: configDigest, size: configSize),
                layers: [.init(mediaType: OCIImage.MediaType.layer, digest: layerDigest, size: layerSize)])
            let (manifestDigest, manifestSize) = try layout.blobs.ingest(try JSON.encode(manifest))
            return OCIImage.Descriptor(mediaType: OCIImage.MediaType.manifest, digest: manifestDigest, size: manifestSize)
        }
    }

    @Test("a new layout has oci-layout and an empty index")
    func empty() throws {
        let s = try Scratch()
        let marker = try String(contentsOfFile: s.root + "/oci/oci-layout", encoding: .utf8)
        #expect(marker == #"{"imageLayoutVersion":"1.0.0"}"#)
        #expect(try s.layout.index().manifests.isEmpty)
        #expect(try s.layout.tags().isEmpty)
    }

    /// A store from before references were normalised has tags as typed; they are found by any
    /// spelling and written back in the familiar form.
    @Test("tags stored as typed before normalisation are read normalised")
    func migration() throws {
        let s = try Scratch()
        let one = try s.storeImage(text: "one")
        let two = try s.storeImage(text: "two")
        var index = try s.layout.index()
        for (tag, descriptor) in [("docker.io/library/busybox:1.35", one), ("index.docker.io/me/app:v1", two),
                                  ("busybox:1.35", two)] {
            var entry = descriptor
            entry.annotations = [OCIImage.refNameAnnotation: tag]
            index.manifests.append(entry)
        }
        try s.layout.writeIndex(index)
        // Writing again goes through index(): nothing else rewrites the raw file here.
        let raw = try String(contentsOfFile: s.root + "/oci/index.json", encoding: .utf8)
        #expect(raw.contains("docker.io/library/busybox:1.35"))

        #expect(try s.layout.resolve(ImageReference.parse("docker.io/library/busybox:1.35")).digest == two.digest)
        #expect(try s.layout.resolve(ImageReference.parse("busybox:1.35")).digest == two.digest)
        #expect(try s.layout.resolve(ImageReference.parse("me/app:v1")).digest == two.digest)
        #expect(try s.layout.tags().map(\.reference).sorted() == ["busybox:1.35", "me/app:v1"])
        // The older spelling's image stays, untagged.
        #expect(try s.layout.index().manifests.contains { $0.digest == one.digest && $0.annotations == nil })

        try s.layout.tag(ImageReference.parse("other"), manifest: one)
        let rewritten = try String(contentsOfFile: s.root + "/oci/index.json", encoding: .utf8)
        #expect(!rewritten.contains("docker.io"))
    }

    @Test("tag, resolve, retag and untag")
    func tags() throws {
        let s = try Scratch()
        let one = try s.storeImage(text: "one")
        let two = try s.storeImage(text: "two")
        let ref = try ImageReference.parse("me/greeting:v1")
        try s.layout.tag(ref, manifest: one)
        #expect(try s.layout.resolve(ref).digest == one.digest)
        try s.layout.tag(ref, manifest: two)
        #expect(try s.layout.resolve(ref).digest == two.digest)
        #expect(try s.layout.tags().map(\.reference) == ["me/greeting:v1"])
        let byDigest = try ImageReference.parse("me/greeting@" + two.digest)
        #expect(try s.layout.resolve(byDigest).digest == two.digest)
        try s.layout.untag(ref)
        let error = #expect(throws: ImageStoreError.self) { try s.layout.resolve(ref) }
        #expect(error?.code == .notFound)
        #expect(error?.description == "no image me/greeting:v1 in the store (see berth images)")
    }

    @Test("a damaged index.json is reported as such")
    func damagedIndex() throws {
        let s = try Scratch()
        try "{\"schemaVersion\": 2, \"manifests\": [".write(toFile: s.root + "/oci/index.json", atomically: false, encoding: .utf8)
        let error = #expect(throws: ImageStoreError.self) { try s.layout.index() }
        #expect(error?.code == .corrupt)
        #expect(error?.description.contains("index.json") == true)
    }

    @Test("skopeo and umoci read the layout", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/umoci"), "needs skopeo and umoci (apt-get install skopeo umoci)"))
    func standardTools() throws {
        let s = try Scratch()
        let image = try s.storeImage(text: "hi")
        try s.layout.tag(try ImageReference.parse("busybox:1.35"), manifest: image)

        let skopeo = Process()
        skopeo.executableURL = URL(fileURLWithPath: "/usr/bin/skopeo")
        skopeo.arguments = ["inspect", "oci:\(s.root)/oci:busybox:1.35"]
        let out = Pipe()
        skopeo.standardOutput = out
        try skopeo.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        skopeo.waitUntilExit()
        #expect(skopeo.terminationStatus == 0)
        let inspected = try JSON.parse(Array(data))
        #expect(inspected["Digest"]?.string == image.digest)
        #expect(inspected["Os"]?.string == "linux")

        let umoci = Process()
        umoci.executableURL = URL(fileURLWithPath: "/usr/bin/umoci")
        umoci.arguments = ["ls", "--layout", s.root + "/oci"]
        let listing = Pipe()
        umoci.standardOutput = listing
        try umoci.run()
        let tags = String(decoding: listing.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        umoci.waitUntilExit()
        #expect(umoci.terminationStatus == 0)
        #expect(tags.split(separator: "\n").contains("busybox:1.35"))
    }
}
