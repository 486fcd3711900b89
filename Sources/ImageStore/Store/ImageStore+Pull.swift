import JSON
#if canImport(Glibc)
import Glibc
#endif

/// What a pull needs of the store: somewhere for downloads to survive an interrupted pull, a way
/// to keep its blobs from a prune until the image is recorded, and the recording itself (manifest
/// and tag last, only once every blob is there).
///
/// A download is `downloads/<hex>`, outside `tmp/` (which every store open empties when no writer
/// holds the lock): a pull that is interrupted resumes from it with a Range request. Only a file
/// whose content matched its digest is renamed under `blobs/`.
extension ImageStore {
    /// Layer media types a pull accepts: OCI's and Docker's, uncompressed, gzip or zstd (the
    /// unpacker finds the compression itself). Foreign layers (Windows base layers) are not.
    public static let pullableLayerTypes: Set<String> = [
        OCIImage.MediaType.layer, OCIImage.MediaType.layerGzip, OCIImage.MediaType.layerZstd,
        "application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.docker.image.rootfs.diff.tar",
    ]

    public var downloadsDirectory: String { root + "/downloads" }

    /// The file a download of `digest` is written to (and resumed from).
    public func downloadPath(_ digest: Digest) throws -> String {
        try makeDirectories(downloadsDirectory, mode: 0o700)
        return downloadsDirectory + "/" + digest.hex
    }

    /// Deletes what interrupted pulls left in `downloads/` (kept until now so that the next pull
    /// of the same blob resumes it): every file but those of a running pull. A pull makes its
    /// download files only after `reserveBlobs` has pinned their digests under the shared lock,
    /// and its pin lives until it has adopted or given them up; so, with the exclusive lock held,
    /// a file whose digest no live pin names belongs to no pull, and no pull can start one
    /// before the lock is let go. Returns how many files went and their bytes.
    func removeAbandonedDownloads() throws -> (files: Int, bytes: Int64) {
        let pinned = pinnedBlobs()
        var removed = (files: 0, bytes: Int64(0))
        for name in listDirectory(downloadsDirectory) {
            if let digest = Digest("sha256:" + name), pinned.contains(digest) { continue }
            let path = downloadsDirectory + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            guard unlink(path) == 0 else {
                throw ImageStoreError(.systemError, "cannot remove the abandoned download \(path)", errno: errno)
            }
            removed.files += 1
            removed.bytes += Int64(st.st_size)
        }
        return removed
    }

    public func hasBlob(_ digest: Digest) -> Bool { layout.blobs.contains(digest) }

    /// Whether `name` (a tag, id or id prefix) names an image in the store: what `run --pull
    /// missing` asks after a create found none, to tell a missing image from other things missing.
    public func hasImage(_ name: String) -> Bool {
        guard let parsed = try? ImageName.parse(name) else { return false }
        return (try? locked(.shared) { try findImage(parsed) }) != nil
    }

    /// Moves a download whose content the caller hashed and found to be `digest` under `blobs/`.
    public func adoptDownload(_ file: String, digest: Digest) throws {
        try layout.blobs.adopt(file, digest: digest)
    }

    /// Keeps `digests` from `prune` until the returned reservation is released: a pull stores its
    /// blobs over seconds or minutes before its manifest names them.
    public func reserveBlobs(_ digests: [Digest]) throws -> BlobReservation {
        BlobReservation(pin: try locked(.shared) { try pinBlobs(digests) })
    }

    /// Records a pulled image: its manifest (`bytes`, checked against `digest`) under `blobs/`,
    /// then, once its config and every layer are present, the tag (`reference` with a tag), or an
    /// entry that remembers the repository (a pull by digest). `indexDigest` is the
    /// multi-platform index the manifest was picked from, noted on the entry
    /// (`OCIImage.indexDigestAnnotation`). The layers are not unpacked here: the first run does
    /// that, as for a loaded image.
    @discardableResult
    public func recordPulledImage(manifest bytes: [UInt8], digest: Digest, mediaType: String,
                                  as reference: ImageReference, indexDigest: Digest? = nil) throws -> ImageSummary {
        try locked(.exclusive) {
            let manifest: OCIImage.Manifest
            do {
                manifest = try OCIImage.Manifest(json: try JSON.parse(bytes))
            } catch {
                throw ImageStoreError(.corrupt, "the manifest of \(reference) does not parse: \(error)")
            }
            let configDigest = try manifest.config.parsedDigest()
            for blob in try [configDigest] + manifest.layers.map({ try $0.parsedDigest() }) where !layout.blobs.contains(blob) {
                throw ImageStoreError(.notFound, "blob \(blob) of \(reference) is not in the store; nothing was recorded")
            }
            let config = try readConfig(configDigest, name: reference.description)
            try layout.blobs.ingest(bytes, expected: digest)
            var annotations = [OCIImage.repositoryAnnotation: reference.name]
            annotations[OCIImage.indexDigestAnnotation] = indexDigest?.description
            let entry = OCIImage.Descriptor(
                mediaType: mediaType, digest: digest, size: Int64(bytes.count), annotations: annotations,
                platform: .init(architecture: config.architecture, os: config.os))
            if let tag = reference.tag {
                // `name:tag@digest` tags `name:tag`, as Docker does.
                try layout.tag(ImageReference(registry: reference.registry, path: reference.path, tag: tag, digest: nil),
                               manifest: entry)
            } else {
                try recordUntagged(entry, from: reference)
            }
            let size = manifest.layers.reduce(manifest.config.size) { $0 + $1.size }
            return ImageSummary(reference: reference.description, id: configDigest, manifest: digest,
                                created: config.created, size: size, layerCount: manifest.layers.count, indexDigest: indexDigest)
        }
    }
}

extension ImageStore {
    /// A pull by digest names no tag: the entries of the manifest that are this repository's (or
    /// no repository's) learn the repository and the index, so that `NAME@DIGEST` finds them;
    /// with none, `entry` is added untagged. The caller holds the exclusive lock.
    private func recordUntagged(_ entry: OCIImage.Descriptor, from reference: ImageReference) throws {
        var index = try layout.index()
        var known = false
        for i in index.manifests.indices where index.manifests[i].digest == entry.digest {
            var annotations = index.manifests[i].annotations ?? [:]
            if let repository = annotations[OCIImage.repositoryAnnotation],
               (try? ImageReference.parse(repository))?.name != reference.name { continue }
            annotations.merge(entry.annotations ?? [:]) { _, pulled in pulled }
            index.manifests[i].annotations = annotations
            known = true
        }
        if !known { index.manifests.append(entry) }
        try layout.writeIndex(index)
    }

    /// What the registries an image came from or went to know it by (Docker's `RepoDigests`):
    /// `REPOSITORY@DIGEST` for each repository noted on the entries of `manifest`, the digest
    /// being the multi-platform index's when it was pulled from one.
    public func repositoryDigests(of manifest: Digest) throws -> [String] {
        try locked(.shared) {
            var seen: [String] = []
            for entry in try layout.index().manifests where entry.digest == manifest.description {
                guard let repository = entry.annotations?[OCIImage.repositoryAnnotation] else { continue }
                let text = repository + "@" + (entry.annotations?[OCIImage.indexDigestAnnotation] ?? entry.digest)
                if !seen.contains(text) { seen.append(text) }
            }
            return seen
        }
    }
}

/// Blobs a pull keeps from `prune` while it downloads them (see `ImageStore.reserveBlobs`).
public final class BlobReservation: @unchecked Sendable {
    // Released once, by its owner; never shared between threads while in use.
    private let pin: BlobPin

    init(pin: BlobPin) { self.pin = pin }

    public func release() { pin.release() }
}
