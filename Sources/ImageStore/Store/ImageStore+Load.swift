import JSON
#if canImport(Glibc)
import Glibc
#endif

/// `berth load`: images from an archive `save` wrote, an OCI layout tar (skopeo `oci-archive:`),
/// or a `docker save` tar (manifest.json with config and layer files, Docker's older form).
extension ImageStore {
    /// What the archive held, gathered while streaming it.
    private struct ArchiveContents {
        var ociLayout = false
        var index: [UInt8]?
        var dockerManifest: [UInt8]?
        /// Archive path → the digest its content was stored under.
        var files: [String: Digest] = [:]
        /// Archive path of a symbolic link → the archive path it names.
        var links: [String: String] = [:]
    }

    /// One image to record: its manifest entry and tags.
    private struct LoadedImage {
        var entry: OCIImage.Descriptor
        var tags: [String]
    }

    /// Loads the images of the tar on `fd` (read to its end, not closed) and tags them.
    ///
    /// Streaming, under the shared lock: every blob is stored with its digest checked against its
    /// name (a mismatch is `.corrupt`, naming the entry); other regular files (a docker-save tar's
    /// config and layer.tar files) are stored under the digest of their content. Only content is
    /// written, never a path the archive names, and only into tmp/ and blobs/; links and other
    /// special entries, absolute names and `..` are refused. Then, under the exclusive lock, every
    /// manifest's config and layers must be present before anything is tagged (tags last): a
    /// failed or killed load leaves only unreferenced blobs, which prune removes.
    /// Returns one summary per tag loaded (`<none>:<none>` for an image loaded without one).
    public func load(from fd: Int32, source: String = "standard input") throws -> [ImageSummary] {
        // The blobs are pinned before the shared lock goes, so a prune before the exclusive
        // lock is taken keeps them.
        let (contents, pin) = try locked(.shared) { () throws -> (ArchiveContents, BlobPin) in
            let contents = try readArchive(fd, source: source)
            return (contents, try pinBlobs(Array(Set(contents.files.values))))
        }
        defer { pin.release() }
        return try locked(.exclusive) {
            let images = try loadedImages(contents, source: source)
            // An archive that lists no image would otherwise load nothing and say nothing.
            guard !images.isEmpty else {
                let list = contents.index != nil ? "index.json" : "manifest.json"
                throw ImageStoreError(.rejected, "\(source) holds no images: its \(list) lists none; nothing was loaded")
            }
            var index = try layout.index()
            for image in images {
                let (manifest, _) = try readManifest(try image.entry.parsedDigest(), name: source)
                for digest in try [manifest.config.parsedDigest()] + manifest.layers.map({ try $0.parsedDigest() })
                where !layout.blobs.contains(digest) {
                    throw ImageStoreError(.corrupt, "\(source) lacks blob \(digest) of image \(image.tags.first ?? image.entry.digest); "
                                              + "nothing was loaded")
                }
            }
            var summaries: [ImageSummary] = []
            for image in images {
                let manifestDigest = try image.entry.parsedDigest()
                let (manifest, _) = try readManifest(manifestDigest, name: source)
                let configDigest = try manifest.config.parsedDigest()
                let config = try readConfig(configDigest, name: source)
                let size = manifest.layers.reduce(manifest.config.size) { $0 + $1.size }
                for tag in image.tags.isEmpty ? [ImageSummary.untaggedReference] : image.tags {
                    summaries.append(ImageSummary(reference: tag, id: configDigest, manifest: manifestDigest,
                                                  created: config.created, size: size, layerCount: manifest.layers.count))
                }
                if image.tags.isEmpty { OCILayout.keepUntagged(image.entry, in: &index) }
            }
            try layout.writeIndex(index)
            // Tags last, each replacing what the tag named before (that image stays, untagged).
            for image in images {
                for tag in image.tags { try layout.tag(try ImageReference.parse(tag), manifest: image.entry) }
            }
            return summaries
        }
    }

    /// `load` from a file.
    public func load(fromFile path: String) throws -> [ImageSummary] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let err = errno
            throw ImageStoreError(err == ENOENT ? .notFound : .systemError, "cannot open \(path)", errno: err)
        }
        defer { close(fd) }
        return try load(from: fd, source: path)
    }

    private func readArchive(_ fd: Int32, source: String) throws -> ArchiveContents {
        let reader = try ImageArchiveReader(fd: fd, source: source)
        var contents = ArchiveContents()
        while let entry = try reader.next() {
            if entry.isDirectory || entry.path.isEmpty { continue }
            if let target = entry.linkTarget {
                guard !entry.path.hasPrefix("blobs/") else {
                    throw ImageStoreError(.rejected, "the archive entry \"\(entry.path)\" in \(source) is a link; a blob must be a regular file")
                }
                contents.links[entry.path] = target
                continue
            }
            switch entry.path {
            case "oci-layout":
                contents.ociLayout = true
                _ = try reader.readAll(entry: entry.path)
            case "index.json":
                contents.index = try reader.readAll(entry: entry.path)
            case "manifest.json":
                contents.dockerManifest = try reader.readAll(entry: entry.path)
            default:
                var expected: Digest?
                if entry.path.hasPrefix("blobs/") {
                    guard let digest = Digest("sha256:" + entry.path.dropFirst("blobs/sha256/".count)),
                          entry.path.hasPrefix("blobs/sha256/") else {
                        throw ImageStoreError(.rejected, "the archive entry \"\(entry.path)\" in \(source) is not named blobs/sha256/<64 hex digits>")
                    }
                    expected = digest
                }
                do {
                    let (digest, _) = try layout.blobs.ingest(expected: expected, expectedSize: expected == nil ? nil : entry.size) { buffer in
                        try reader.read(buffer, entry: entry.path)
                    }
                    contents.files[entry.path] = digest
                } catch let error as ImageStoreError where error.code == .corrupt {
                    throw ImageStoreError(.corrupt, "the archive entry \"\(entry.path)\" in \(source) does not match its name "
                                              + "(\(error.message)); nothing was loaded")
                }
            }
        }
        // A link stands for the content it names (a link to a link too, to a bounded depth);
        // one naming nothing in the archive stays out, and is reported if a manifest uses it.
        for (link, first) in contents.links {
            var target = first
            for _ in 0..<8 where contents.files[target] == nil {
                guard let next = contents.links[target] else { break }
                target = next
            }
            if let digest = contents.files[target] { contents.files[link] = digest }
        }
        return contents
    }

    /// The images an archive describes: from its OCI index.json when it has one (tags from
    /// manifest.json's RepoTags, else from the entries' annotations), else from a docker-save
    /// manifest.json, whose images get an OCI manifest made here.
    private func loadedImages(_ contents: ArchiveContents, source: String) throws -> [LoadedImage] {
        var repoTags: [String: [String]] = [:]
        var dockerItems: [DockerArchiveManifest] = []
        if let bytes = contents.dockerManifest {
            dockerItems = try decode([DockerArchiveManifest].self, bytes, "manifest.json of \(source)")
            for item in dockerItems {
                if let digest = contents.files[item.config] { repoTags[digest.hex, default: []] += item.repoTags ?? [] }
            }
        }
        for tag in repoTags.values.joined() { _ = try ImageReference.parse(tag) }
        if let bytes = contents.index {
            let index = try decode(OCIImage.Index.self, bytes, "index.json of \(source)")
            var images: [LoadedImage] = []
            for entry in index.manifests {
                var manifestEntry = try platformManifest(entry, source: source)
                let (manifest, _) = try readManifest(try manifestEntry.parsedDigest(), name: source)
                let annotated = Self.annotatedTag(entry).map { [$0] } ?? []
                var tags = repoTags[try manifest.config.parsedDigest().hex] ?? annotated
                manifestEntry.annotations = nil
                if let at = images.firstIndex(where: { $0.entry.digest == manifestEntry.digest }) {
                    tags.removeAll { images[at].tags.contains($0) }
                    images[at].tags += tags
                } else {
                    images.append(LoadedImage(entry: manifestEntry, tags: tags))
                }
            }
            return images
        }
        guard contents.dockerManifest != nil else {
            throw ImageStoreError(.rejected, "\(source) is not an image archive: it has neither index.json nor manifest.json")
        }
        return try dockerItems.map { try dockerImage($0, contents, source: source) }
    }

    /// A tag from an index entry's annotations: containerd's full name (Docker 25 writes it, with
    /// `docker.io/library/`, which parsing normalises away) or the OCI ref.name. One that does
    /// not parse as a reference is left out (the image loads untagged, found by its id).
    private static func annotatedTag(_ entry: OCIImage.Descriptor) -> String? {
        if let name = entry.annotations?["io.containerd.image.name"] {
            if let reference = try? ImageReference.parse(name), reference.digest == nil { return reference.description }
        }
        guard let name = entry.annotations?[OCIImage.refNameAnnotation],
              let reference = try? ImageReference.parse(name), reference.digest == nil else { return nil }
        return reference.description
    }

    /// The image manifest an index entry names: itself, or the host's manifest of a nested index.
    private func platformManifest(_ entry: OCIImage.Descriptor, source: String) throws -> OCIImage.Descriptor {
        if OCIImage.MediaType.isImageManifest(entry.mediaType) {
            return entry
        }
        let digest = try entry.parsedDigest()
        guard layout.blobs.contains(digest) else {
            throw ImageStoreError(.corrupt, "\(source) lacks blob \(digest), named by its index.json; nothing was loaded")
        }
        let nested = try decode(OCIImage.Index.self, try layout.blobs.read(digest), "image index \(digest.short) of \(source)")
        guard let chosen = nested.manifests.first(where: { $0.platform?.os == "linux" && $0.platform?.architecture == Self.hostArchitecture }) else {
            throw ImageStoreError(.rejected, "\(source) has no image for linux/\(Self.hostArchitecture) in index \(digest.short)")
        }
        return chosen
    }

    /// An OCI manifest for an image of a docker-save manifest.json. Layer files are stored as they
    /// were (their media type from their first bytes); an uncompressed one's digest is its diff_id,
    /// which is checked against the config here.
    private func dockerImage(_ item: DockerArchiveManifest, _ contents: ArchiveContents, source: String) throws -> LoadedImage {
        func stored(_ path: String) throws -> Digest {
            let normalised = try ImageArchiveReader.normalise(path, source: source)
            guard let digest = contents.files[normalised] else {
                throw ImageStoreError(.corrupt, "\(source) lacks \"\(path)\", named by its manifest.json; nothing was loaded")
            }
            return digest
        }
        let configDigest = try stored(item.config)
        let configBytes = try layout.blobs.read(configDigest)
        let config = try decode(OCIImage.Configuration.self, configBytes, "the config \(item.config) of \(source)")
        guard config.rootfs.diffIDs.count == item.layers.count else {
            throw ImageStoreError(.corrupt, "the config \(item.config) of \(source) lists \(config.rootfs.diffIDs.count) diff_ids "
                                      + "for \(item.layers.count) layers; nothing was loaded")
        }
        var layers: [OCIImage.Descriptor] = []
        for (i, path) in item.layers.enumerated() {
            let digest = try stored(path)
            let mediaType = try layerMediaType(digest)
            if mediaType == OCIImage.MediaType.layer, config.rootfs.diffIDs[i] != digest.description {
                throw ImageStoreError(.corrupt, "the layer \"\(path)\" of \(source) does not match diff_id \(config.rootfs.diffIDs[i]) "
                                          + "of its config; nothing was loaded")
            }
            layers.append(OCIImage.Descriptor(mediaType: mediaType, digest: digest, size: try blobSize(digest)))
        }
        let manifest = OCIImage.Manifest(
            config: .init(mediaType: OCIImage.MediaType.config, digest: configDigest, size: Int64(configBytes.count)),
            layers: layers)
        let (manifestDigest, manifestSize) = try layout.blobs.ingest(try encodeDocument(manifest, "the image manifest"))
        let tags = try (item.repoTags ?? []).map { try ImageReference.parse($0).description }
        return LoadedImage(entry: .init(mediaType: OCIImage.MediaType.manifest, digest: manifestDigest, size: manifestSize,
                                        platform: .init(architecture: config.architecture, os: config.os)),
                           tags: tags)
    }

    /// A layer blob's media type from its first bytes (gzip, zstd, else a plain tar).
    private func layerMediaType(_ digest: Digest) throws -> String {
        let fd = open(layout.blobs.path(of: digest), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageStoreError(.systemError, "cannot open blob \(digest)", errno: errno) }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 4)
        let n = magic.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4) }
        if n >= 2, magic[0] == 0x1f, magic[1] == 0x8b { return OCIImage.MediaType.layerGzip }
        if n == 4, magic == [0x28, 0xb5, 0x2f, 0xfd] { return OCIImage.MediaType.layerZstd }
        return OCIImage.MediaType.layer
    }

    func blobSize(_ digest: Digest) throws -> Int64 {
        var st = stat()
        guard lstat(layout.blobs.path(of: digest), &st) == 0 else {
            throw ImageStoreError(.systemError, "cannot stat blob \(digest)", errno: errno)
        }
        return Int64(st.st_size)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ what: String) throws -> T {
        do {
            return try JSON.decode(T.self, from: bytes, source: what)
        } catch {
            throw ImageStoreError(.corrupt, "\(what) does not parse: \(error)")
        }
    }
}
