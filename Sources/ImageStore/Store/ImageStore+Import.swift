import JSON
#if canImport(Glibc)
import Glibc
#endif

/// `berth import`: a directory or a tar file becomes a one-layer base image.
extension ImageStore {
    /// What an import may let in.
    public struct ImportOptions: Sendable {
        /// Device nodes in an imported tar or directory (other than whiteouts) are refused unless
        /// true: a device node in an image is a door to the host's hardware for whoever runs it.
        public var allowDevices: Bool

        public init(allowDevices: Bool = false) {
            self.allowDevices = allowDevices
        }
    }

    /// Imports `source` as a one-layer image tagged `reference`.
    ///
    /// The stored layer is always one normalised gzip blob written by `LayerPacker`: a tar is
    /// unpacked first (through the same hostile-entry checks as any layer) and packed again, so
    /// the same tree gives the same layer, however the tar was made. Blob, layer directory, config
    /// and manifest are complete before the tag is written: a crash leaves only unreferenced
    /// content. `date` (RFC 3339) is the image's creation time, passed in so tests are repeatable;
    /// `configChanges` edits the image's defaults (Docker's `import --change`).
    ///
    /// The long part (pack, ingest, unpack) holds the lock shared, so containers start and other
    /// imports run meanwhile; only the config, manifest and tag are written under the exclusive
    /// lock, after checking that a prune in between did not take the new, still unnamed, layer.
    @discardableResult
    public func importImage(from source: ImportSource, as reference: ImageReference, comment: String?,
                            createdBy: String, date: String, options: ImportOptions = .init(),
                            configChanges: ((inout OCIImage.ExecutionConfig) -> Void)? = nil) throws -> ImageSummary {
        guard reference.digest == nil else {
            throw ImageStoreError(.invalidReference, "cannot import as \(reference): a tag cannot contain a digest")
        }
        let layer = try locked(.shared) {
            let layer = try storeLayer(from: source, options: options)
            _ = try unpackLayer(layer.descriptor, diffID: layer.diffID, chainID: layer.diffID)
            return layer
        }
        return try locked(.exclusive) {
            guard layout.blobs.contains(try layer.descriptor.parsedDigest()),
                  access(layerDirectory(chainID: layer.diffID), F_OK) == 0 else {
                throw ImageStoreError(.conflict, "a prune that ran meanwhile removed the imported layer before the image was recorded; import again")
            }
            var execution = OCIImage.ExecutionConfig(env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
            configChanges?(&execution)
            let config = OCIImage.Configuration(
                created: date, author: nil, architecture: Self.hostArchitecture, os: "linux",
                config: execution,
                rootfs: OCIImage.RootFS(diffIDs: [layer.diffID]),
                history: [OCIImage.History(created: date, createdBy: createdBy, comment: comment)])
            let (configDigest, configSize) = try layout.blobs.ingest(try encodeDocument(config, "the image config"))
            let manifest = OCIImage.Manifest(
                config: .init(mediaType: OCIImage.MediaType.config, digest: configDigest, size: configSize),
                layers: [layer.descriptor])
            let (manifestDigest, manifestSize) = try layout.blobs.ingest(try encodeDocument(manifest, "the image manifest"))
            // The tag last: until it is written, nothing names what was stored above.
            try layout.tag(reference, manifest: .init(
                mediaType: OCIImage.MediaType.manifest, digest: manifestDigest, size: manifestSize,
                platform: .init(architecture: Self.hostArchitecture, os: "linux")))
            return ImageSummary(reference: reference.description, id: configDigest, manifest: manifestDigest,
                                created: date, size: configSize + layer.descriptor.size, layerCount: 1)
        }
    }

    /// The OCI name of the architecture berth runs on (images it makes run here).
    static var hostArchitecture: String {
        #if arch(x86_64)
        "amd64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }

    /// Packs the source into a gzip layer, computing both digests in the same pass, and stores
    /// it. Everything temporary lives in `tmp/` and is removed here (or by the next open).
    private func storeLayer(from source: ImportSource,
                            options: ImportOptions) throws -> (descriptor: OCIImage.Descriptor, diffID: Digest) {
        let work = try makeTemporaryDirectory("import")
        defer { removeTree(work) }

        let tree: String
        switch source {
        case .directory(let path):
            tree = path
        case .tarFile(let path):
            tree = work + "/tree"
            guard mkdir(tree, 0o755) == 0 else { throw ImageStoreError(.systemError, "cannot create \(tree)", errno: errno) }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                let err = errno
                throw ImageStoreError(err == ENOENT ? .notFound : .systemError, "cannot open \(path)", errno: err)
            }
            defer { close(fd) }
            var unpack = unpackOptions
            unpack.allowDevices = options.allowDevices
            do {
                _ = try LayerUnpacker(options: unpack).unpack(from: fd, into: tree)
            } catch {
                throw ImageStoreError(layer: error, "cannot import \(path)")
            }
        }
        // A tar's devices were checked as it was unpacked; a directory's are checked as it is packed.
        return try packLayer(tree, failure: "cannot import \(treeName(source))", allowDevices: options.allowDevices)
    }

    private func treeName(_ source: ImportSource) -> String {
        switch source {
        case .directory(let path), .tarFile(let path): path
        }
    }

}
