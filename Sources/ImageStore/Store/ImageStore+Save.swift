import FileSystem
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// `berth save`: images as one tar that is both an OCI image layout and a `docker save` archive.
extension ImageStore {
    /// Writes the images `names` name (tags, ids or id prefixes) to `fd` (a file or standard
    /// output, which is not closed) as a tar holding an OCI image layout (oci-layout, index.json
    /// with one entry per tag, blobs/sha256/) and Docker's manifest.json, as Docker 25+ writes it,
    /// so both `docker load` and OCI tools (skopeo `oci-archive:`) read it. A name that is a tag
    /// saves that tag; an id saves the image untagged. Blobs are checked against their digests on
    /// the way out. With `platform` (`save --platform`, Docker's), every image must be of that
    /// OS and architecture: the store holds one platform of an image (the one pulled), so another
    /// is an error naming the one it has, before anything is written. Holds the shared lock
    /// throughout.
    public func save(_ names: [String], platform: OCIImage.Platform? = nil, to fd: Int32,
                     target: String = "standard output") throws {
        let parsed = try names.map { try ImageName.parse($0) }
        try locked(.shared) {
            // Manifest digest → tags, in the order the names came.
            var images: [(manifest: Digest, descriptor: OCIImage.Descriptor, tags: [String])] = []
            for name in parsed {
                let found = try findImage(name)
                guard OCIImage.MediaType.isImageManifest(found.descriptor.mediaType) else {
                    throw ImageStoreError(.rejected, "cannot save \(name): it names a \(found.descriptor.mediaType), not an image manifest")
                }
                if let platform {
                    let (manifest, _) = try readManifest(found.manifestDigest, name: name.text)
                    let config = try readConfig(try manifest.config.parsedDigest(), name: name.text)
                    guard config.os == platform.os, config.architecture == platform.architecture else {
                        throw ImageStoreError(.notFound, "cannot save \(name.text) for \(platform.os)/\(platform.architecture): "
                                                  + "the store holds it for \(config.os)/\(config.architecture) only; pull it with "
                                                  + "--platform \(platform.os)/\(platform.architecture) to save that one")
                    }
                }
                if let at = images.firstIndex(where: { $0.manifest == found.manifestDigest }) {
                    if let tag = found.tag, !images[at].tags.contains(tag) { images[at].tags.append(tag) }
                } else {
                    images.append((found.manifestDigest, found.descriptor, found.tag.map { [$0] } ?? []))
                }
            }

            var index = OCIImage.Index()
            var dockerManifests: [DockerArchiveManifest] = []
            var blobs: [Digest] = []
            func add(_ digest: Digest) { if !blobs.contains(digest) { blobs.append(digest) } }
            for image in images {
                let (manifest, _) = try readManifest(image.manifest, name: image.tags.first ?? image.manifest.short)
                let configDigest = try manifest.config.parsedDigest()
                let layers = try manifest.layers.map { try $0.parsedDigest() }
                add(configDigest)
                layers.forEach(add)
                add(image.manifest)
                var entry = image.descriptor
                entry.annotations = nil
                if image.tags.isEmpty { index.manifests.append(entry) }
                for tag in image.tags {
                    entry.annotations = [OCIImage.refNameAnnotation: tag]
                    index.manifests.append(entry)
                }
                dockerManifests.append(DockerArchiveManifest(
                    config: "blobs/sha256/" + configDigest.hex, repoTags: image.tags,
                    layers: layers.map { "blobs/sha256/" + $0.hex }))
            }

            let writer = try ImageArchiveWriter(fd: fd, target: target)
            try writer.addFile("oci-layout", bytes: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
            try writer.addFile("index.json", bytes: try encodeDocument(index, "index.json"))
            try writer.addFile("manifest.json", bytes: try encodeDocument(dockerManifests, "manifest.json"))
            try writer.addDirectory("blobs")
            try writer.addDirectory("blobs/sha256")
            for digest in blobs {
                try writer.addBlob("blobs/sha256/" + digest.hex, from: layout.blobs.path(of: digest), digest: digest)
            }
            try writer.finish()
        }
    }

    /// `save` to a file, atomically: a temporary file beside `path`, renamed over it once the
    /// archive is complete and on disk, so a failed or interrupted save leaves no half archive.
    public func save(_ names: [String], platform: OCIImage.Platform? = nil, toFile path: String) throws {
        // A new file, never one that is there already (O_EXCL, O_NOFOLLOW): berth runs as root,
        // and a link planted at a guessable name in a shared directory must not be followed.
        do {
            try AtomicFile.replace(path, durability: .full) { fd, _ in try save(names, platform: platform, to: fd, target: path) }
        } catch let error as FileSystemError {
            let doing = switch error.call {
            case "rename": "cannot move the archive to \(path)"
            case "open" where error.path.hasPrefix(path + ".tmp-"): "cannot create \(error.path)"
            default: "cannot \(error.call) \(error.path)"
            }
            throw ImageStoreError(.systemError, doing, errno: error.errno)
        }
    }
}
