import JSON

/// The images a build makes, one per Dockerfile instruction: like a commit, but on any parent
/// (or none: `FROM scratch`), with or without a new layer, and with the whole config given by
/// the builder. Each is kept untagged in the index with `OCIImage.buildCacheAnnotation`, so the
/// next step's container finds it by id, `image prune` keeps it and GC keeps what it reaches;
/// `builder prune` removes it (a cache entry then misses: it never names content that is gone,
/// see `isComplete`).
extension ImageStore {
    /// An image a build step stored.
    public struct StoredImage: Sendable, Equatable {
        public let manifest: Digest
        /// The image id (its config's digest).
        public let id: Digest

        public init(manifest: Digest, id: Digest) {
            self.manifest = manifest
            self.id = id
        }
    }

    /// Stores `config` as an image: `parent`'s layers (none for nil), then `layerDirectory`
    /// packed as one more layer when given. The store appends the layer's diff_id and `history`
    /// (marked `empty_layer` without a layer) to `config`; members of the parent's config that
    /// berth does not model are kept.
    public func storeBuildStep(parent: Digest?, layerDirectory: String?, config: OCIImage.Configuration,
                               history: OCIImage.History) throws -> StoredImage {
        let packed = try locked(.shared) { () throws -> ((descriptor: OCIImage.Descriptor, diffID: Digest), BlobPin)? in
            guard let layerDirectory else { return nil }
            let layer = try packLayer(layerDirectory, failure: "cannot store the layer of \(history.createdBy ?? "a build step")")
            return (layer, try pinBlobs([try layer.descriptor.parsedDigest()]))
        }
        defer { packed?.1.release() }
        return try locked(.exclusive) {
            var layers: [OCIImage.Descriptor] = []
            var original: JSONValue = .object([])
            if let parent {
                guard layout.blobs.contains(parent) else {
                    throw ImageStoreError(.notFound, "the image a build step starts from (manifest \(parent.short)) is no longer in the "
                                              + "store; was it pruned meanwhile? Build again")
                }
                let (manifest, _) = try readManifest(parent, name: "manifest \(parent.short)")
                layers = manifest.layers
                original = try JSON.parse(try layout.blobs.read(try manifest.config.parsedDigest()))
            }
            var newConfig = config
            var entry = history
            if let (layer, _) = packed {
                guard layout.blobs.contains(try layer.descriptor.parsedDigest()) else {
                    throw ImageStoreError(.conflict, "a build step's layer was removed by a concurrent prune before its image was "
                                              + "recorded; build again")
                }
                layers.append(layer.descriptor)
                newConfig.rootfs.diffIDs.append(layer.diffID.description)
                entry.emptyLayer = nil
            } else {
                entry.emptyLayer = true
            }
            newConfig.history = (newConfig.history ?? []) + [entry]
            let edited: JSONValue
            do {
                edited = try JSON.encodeToValue(newConfig)
            } catch {
                throw ImageStoreError(.systemError, "cannot encode the image config: \(error)")
            }
            let configBytes = JSON.serialize(ConfigurationEdit.merge(original: original, edited: edited))
            let (configDigest, configSize) = try layout.blobs.ingest(configBytes)
            let manifest = OCIImage.Manifest(
                config: .init(mediaType: OCIImage.MediaType.config, digest: configDigest, size: configSize), layers: layers)
            let (manifestDigest, manifestSize) = try layout.blobs.ingest(try encodeDocument(manifest, "the image manifest"))
            var index = try layout.index()
            let descriptor = OCIImage.Descriptor(mediaType: OCIImage.MediaType.manifest, digest: manifestDigest, size: manifestSize,
                                                 annotations: [OCIImage.buildCacheAnnotation: "true"],
                                                 platform: .init(architecture: newConfig.architecture, os: newConfig.os))
            if !index.manifests.contains(where: { $0.digest == descriptor.digest }) {
                OCILayout.keepUntagged(descriptor, in: &index)
                try layout.writeIndex(index)
            }
            return StoredImage(manifest: manifestDigest, id: configDigest)
        }
    }

    /// Makes the build's result an image like any other (`images -a` lists it, `image prune`
    /// removes it once untagged): a tag does the same.
    public func keepAsImage(_ manifest: Digest) throws {
        try locked(.exclusive) {
            var index = try layout.index()
            var changed = false
            for i in index.manifests.indices where index.manifests[i].digest == manifest.description
                && index.manifests[i].annotations?[OCIImage.buildCacheAnnotation] != nil {
                index.manifests[i].annotations?[OCIImage.buildCacheAnnotation] = nil
                if index.manifests[i].annotations?.isEmpty == true { index.manifests[i].annotations = nil }
                changed = true
            }
            if changed { try layout.writeIndex(index) }
        }
    }

    /// The build cache's images, and the bytes of the blobs only they use (what `builder prune`
    /// frees): `system df`'s Build Cache line.
    public func buildCacheUsage() throws -> (images: Int, bytes: Int64) {
        try locked(.shared) {
            let entries = try layout.index().manifests.filter { OCIImage.MediaType.isImageManifest($0.mediaType) }
            let isCache = { (entry: OCIImage.Descriptor) in
                entry.annotations?[OCIImage.refNameAnnotation] == nil && entry.annotations?[OCIImage.buildCacheAnnotation] != nil
            }
            func blobs(of entry: OCIImage.Descriptor) -> [OCIImage.Descriptor] {
                guard let digest = Digest(entry.digest), let (manifest, _) = try? readManifest(digest, name: entry.digest) else { return [] }
                return [entry, manifest.config] + manifest.layers
            }
            let kept = Set(entries.filter { !isCache($0) }.flatMap(blobs).map(\.digest))
            var counted = Set<String>()
            var bytes: Int64 = 0
            let cache = entries.filter(isCache)
            for blob in cache.flatMap(blobs) where !kept.contains(blob.digest) && counted.insert(blob.digest).inserted {
                bytes += blob.size
            }
            return (cache.count, bytes)
        }
    }

    /// Whether the image `manifest` names is still whole and in the index: a build cache entry
    /// is used only then.
    public func isComplete(_ manifest: Digest) -> Bool {
        (try? locked(.shared) { () throws -> Bool in
            guard try layout.index().manifests.contains(where: { $0.digest == manifest.description }) else { return false }
            let (document, _) = try readManifest(manifest, name: manifest.short)
            return try ([document.config] + document.layers).allSatisfy { layout.blobs.contains(try $0.parsedDigest()) }
        }) ?? false
    }

    /// The config of the image `manifest` names.
    public func configuration(ofManifest manifest: Digest) throws -> (id: Digest, config: OCIImage.Configuration) {
        try locked(.shared) {
            let (document, _) = try readManifest(manifest, name: "manifest \(manifest.short)")
            let id = try document.config.parsedDigest()
            return (id, try readConfig(id, name: "manifest \(manifest.short)"))
        }
    }
}
