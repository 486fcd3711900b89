import JSON
#if canImport(Glibc)
import Glibc
#endif

/// `berth commit`: a container's overlay upper dir becomes a new layer on top of its image.
extension ImageStore {
    /// What a commit made.
    public struct CommitResult: Sendable, Equatable {
        /// The new image's id (its config digest).
        public let id: Digest
        public let manifest: Digest
        /// The new layer's descriptor (gzip blob) and diff_id.
        public let layer: OCIImage.Descriptor
        public let diffID: Digest
        /// Bytes of the layer blob.
        public var layerSize: Int64 { layer.size }
    }

    /// Packs `upperDirectory` into a gzip layer and stores an image made of `parent` (a manifest
    /// digest) plus that layer, tagged `reference` when given (untagged otherwise, found by id).
    ///
    /// The pack, the long part, runs under the shared lock so containers keep starting; only the
    /// config, manifest and index are written under the exclusive lock, after checking that the
    /// parent and the new blob are still there (a prune may run in between: the commit then fails
    /// and nothing names what it stored). The layer directory is not unpacked here: resolve
    /// unpacks it on first use, which keeps commit at the cost of packing alone. An empty upper
    /// dir still makes a (empty) layer, as Docker does. `date` (RFC 3339) is passed in so tests are
    /// repeatable; `configChanges` edits the new config (Docker's `commit --change`).
    ///
    /// The upper dir of a container with its own user namespace (`userNamespace`) keeps overlay's
    /// marks in user.overlay.* and its files are owned by host ids, written as the container's.
    public func commit(upperDirectory: String, parent: Digest, as reference: ImageReference?,
                       author: String?, message: String?, createdBy: String, date: String,
                       userNamespace: LayerOwnerMap? = nil,
                       configChanges: ((inout OCIImage.Configuration) -> Void)? = nil) throws -> CommitResult {
        if let reference, reference.digest != nil {
            throw ImageStoreError(.invalidReference, "cannot commit as \(reference): a tag cannot contain a digest")
        }
        let (layer, pin) = try locked(.shared) { () throws -> ((descriptor: OCIImage.Descriptor, diffID: Digest), BlobPin) in
            _ = try parentDocuments(parent)
            let layer = try packLayer(upperDirectory, failure: "cannot commit \(upperDirectory)", userNamespace: userNamespace)
            // Kept from a prune until the exclusive step below records it (see BlobPin).
            return (layer, try pinBlobs([try layer.descriptor.parsedDigest()]))
        }
        defer { pin.release() }
        return try locked(.exclusive) {
            let (manifest, config, originalConfig) = try parentDocuments(parent)
            guard layout.blobs.contains(try layer.descriptor.parsedDigest()) else {
                throw ImageStoreError(.conflict, "the committed layer of \(upperDirectory) was removed by a concurrent prune "
                                          + "before the image was recorded; commit again")
            }
            var newConfig = config
            newConfig.created = date
            newConfig.author = author
            newConfig.rootfs.diffIDs.append(layer.diffID.description)
            newConfig.history = (config.history ?? []) + [
                OCIImage.History(created: date, createdBy: createdBy, author: author, comment: message),
            ]
            configChanges?(&newConfig)
            let edited: JSONValue
            do {
                edited = try JSON.encodeToValue(newConfig)
            } catch {
                throw ImageStoreError(.systemError, "cannot encode the image config: \(error)")
            }
            let configBytes = JSON.serialize(ConfigurationEdit.merge(original: originalConfig, edited: edited))
            let (configDigest, configSize) = try layout.blobs.ingest(configBytes)
            let newManifest = OCIImage.Manifest(
                config: .init(mediaType: OCIImage.MediaType.config, digest: configDigest, size: configSize),
                layers: manifest.layers + [layer.descriptor])
            let (manifestDigest, manifestSize) = try layout.blobs.ingest(try encodeDocument(newManifest, "the image manifest"))
            let entry = OCIImage.Descriptor(mediaType: OCIImage.MediaType.manifest, digest: manifestDigest, size: manifestSize,
                                            platform: .init(architecture: newConfig.architecture, os: newConfig.os))
            // The index last: until it is written, nothing names what was stored above.
            if let reference {
                try layout.tag(reference, manifest: entry)
            } else {
                var index = try layout.index()
                OCILayout.keepUntagged(entry, in: &index)
                try layout.writeIndex(index)
            }
            return CommitResult(id: configDigest, manifest: manifestDigest, layer: layer.descriptor, diffID: layer.diffID)
        }
    }

    /// The parent's manifest and config (modelled, and as JSON); a clear error when the parent
    /// is gone.
    private func parentDocuments(_ parent: Digest) throws -> (OCIImage.Manifest, OCIImage.Configuration, JSONValue) {
        guard layout.blobs.contains(parent) else {
            throw ImageStoreError(.notFound, "the image to commit on (manifest \(parent.short)) is not in the store; was it removed?")
        }
        let (manifest, _) = try readManifest(parent, name: "manifest \(parent.short)")
        let configDigest = try manifest.config.parsedDigest()
        do {
            let value = try JSON.parse(try layout.blobs.read(configDigest))
            return (manifest, try JSON.decode(OCIImage.Configuration.self, from: value, source: "config \(configDigest)"), value)
        } catch let error as ImageStoreError {
            throw error
        } catch {
            throw ImageStoreError(.corrupt, "the config of manifest \(parent.short) does not parse: \(error)")
        }
    }

    /// Packs a directory (a container's upper dir, or an imported tree) into a gzip blob in
    /// `tmp/`, hashing it on the way out (both digests in the one pass), and moves it under its
    /// digest without reading it again. `failure` starts the message of a packing error.
    /// Where overlayfs mounted inside a user namespace (with userxattr) keeps its marks.
    public static let userNamespaceXattrPrefix = "user.overlay."

    func packLayer(_ directory: String, failure: String, allowDevices: Bool = true,
                   userNamespace: LayerOwnerMap? = nil) throws -> (descriptor: OCIImage.Descriptor, diffID: Digest) {
        let work = try makeTemporaryDirectory("pack")
        defer { removeTree(work) }
        let packed = work + "/layer.tar.gz"
        let out = open(packed, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw ImageStoreError(.systemError, "cannot create \(packed)", errno: errno) }
        let digests = LayerDigests()
        let result: LayerPackResult
        do {
            defer { close(out) }
            let options = LayerPacker.Options(
                compression: .gzip,
                overlayXattrPrefix: userNamespace == nil ? unpackOptions.overlayXattrPrefix : Self.userNamespaceXattrPrefix,
                allowDevices: allowDevices, ownerMap: userNamespace)
            result = try LayerPacker(options: options)
                .pack(directory: directory, to: out, observer: digests.observer)
        } catch {
            throw ImageStoreError(layer: error, failure)
        }
        let digest = digests.storedDigest()
        try layout.blobs.adopt(packed, digest: digest)
        let mediaType = result.compression.mediaType ?? OCIImage.MediaType.layerGzip
        return (OCIImage.Descriptor(mediaType: mediaType, digest: digest, size: result.storedBytes), digests.uncompressedDigest())
    }

    func encodeDocument<T: Encodable>(_ value: T, _ what: String) throws -> [UInt8] {
        do {
            return try JSON.encode(value)
        } catch {
            throw ImageStoreError(.systemError, "cannot encode \(what): \(error)")
        }
    }
}
