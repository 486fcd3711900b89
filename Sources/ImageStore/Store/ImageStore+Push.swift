import JSON

/// What a push needs of the store: an image's manifest as stored (its bytes are pushed as they
/// are, so its digest stays the same), where its blobs are, and which other repositories of the
/// same registry its blobs came from (a registry can mount a blob from one of those instead of
/// receiving it again).
public struct PushableImage: Sendable {
    public let manifestBytes: [UInt8]
    public let manifestDigest: Digest
    public let mediaType: String
    public let manifest: OCIImage.Manifest
    /// Blob digest → repositories (`me/base`, registry left out) on the pushed-to registry that
    /// the store knows hold it.
    public let mountSources: [Digest: [String]]
}

extension ImageStore {
    /// The image `name` names, for a push to `registry`: its manifest, and for each blob the
    /// repositories of `registry` the store's pulled or pushed images came from.
    public func pushableImage(_ name: String, registry: String) throws -> PushableImage {
        try locked(.shared) {
            let found = try findImage(try ImageName.parse(name))
            guard OCIImage.MediaType.isImageManifest(found.descriptor.mediaType) else {
                throw ImageStoreError(.unsupported, "\(name) is a \(found.descriptor.mediaType); berth pushes image manifests only")
            }
            let bytes = try layout.blobs.read(found.manifestDigest)
            let (manifest, _) = try readManifest(found.manifestDigest, name: name)
            var sources: [Digest: [String]] = [:]
            for entry in try layout.index().manifests {
                guard let repository = entry.annotations?[OCIImage.repositoryAnnotation],
                      let reference = try? ImageReference.parse(repository), reference.domain == registry,
                      let digest = Digest(entry.digest), OCIImage.MediaType.isImageManifest(entry.mediaType),
                      let (other, _) = try? readManifest(digest, name: repository) else { continue }
                for blob in [other.config] + other.layers {
                    guard let blobDigest = Digest(blob.digest), !(sources[blobDigest] ?? []).contains(reference.remotePath) else { continue }
                    sources[blobDigest, default: []].append(reference.remotePath)
                }
            }
            return PushableImage(manifestBytes: bytes, manifestDigest: found.manifestDigest,
                                 mediaType: found.descriptor.mediaType, manifest: manifest, mountSources: sources)
        }
    }

    /// The file of blob `digest` (read, never written, by a push).
    public func blobPath(_ digest: Digest) -> String { layout.blobs.path(of: digest) }

    /// Notes on the index entries of the image `manifest` that it is in `reference`'s repository
    /// too: a later push of an image sharing its blobs to another repository of that registry
    /// can then mount them. An entry that already names a repository keeps it.
    public func notePushed(_ manifest: Digest, to reference: ImageReference) throws {
        try locked(.exclusive) {
            var index = try layout.index()
            var changed = false
            for i in index.manifests.indices where index.manifests[i].digest == manifest.description {
                var annotations = index.manifests[i].annotations ?? [:]
                guard annotations[OCIImage.repositoryAnnotation] == nil else { continue }
                annotations[OCIImage.repositoryAnnotation] = reference.name
                index.manifests[i].annotations = annotations
                changed = true
            }
            if changed { try layout.writeIndex(index) }
        }
    }
}
