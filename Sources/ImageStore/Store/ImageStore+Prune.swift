/// `berth image prune`: removes dangling images (and with `all`, every image no container uses),
/// then everything no remaining image reaches.
extension ImageStore {
    /// One thing rmi or prune did, in the order `docker rmi` prints them.
    public enum RemovedImage: Sendable, Equatable {
        /// A tag was removed (`Untagged: busybox:1.35`).
        case untagged(String)
        /// An image left the store (`Deleted: sha256:…`): its id.
        case deleted(Digest)
    }

    /// What a prune (or the sweep after an rmi) removed.
    public struct PruneReport: Sendable, Equatable {
        public var removed: [RemovedImage] = []
        public var deletedBlobs = 0
        public var deletedLayerDirectories = 0
        /// Bytes of the deleted blobs (unpacked layer directories are counted, not measured).
        public var freedBytes: Int64 = 0
        /// The build cache's images taken out of the index.
        public var buildCacheImages = 0
        /// Partial downloads of interrupted pulls removed from `downloads/` (their bytes are in
        /// `freedBytes`).
        public var deletedDownloads = 0
    }

    /// What a prune does with the build cache's images (`OCIImage.buildCacheAnnotation`).
    public enum BuildCachePrune: Sendable, Equatable {
        /// Kept (`image prune`).
        case keep
        /// Removed with the images (`system prune`).
        case also
        /// Removed, and nothing else (`builder prune`).
        case only
    }

    /// Without `all`, removes the untagged images no container uses (`docker image prune`); with
    /// `all`, every image no container uses, tagged or not (`docker image prune -a`); the build
    /// cache's images as `buildCache` says (untagged ones only: a tag makes one an image). Then deletes
    /// every blob and layer directory no remaining image or container reaches, including what
    /// interrupted pulls or imports left (with the partial downloads of pulls no longer running,
    /// except for `builder prune`). `inUse` (the manifest digests containers use) is asked
    /// while the exclusive lock is held, so a container being created cannot slip in between.
    /// Crash-safe order: index, then blobs, then layer directories.
    public func prune(all: Bool, buildCache: BuildCachePrune = .keep, inUse: () throws -> Set<Digest>) throws -> PruneReport {
        try locked(.exclusive) {
            // A held image is kept as one a container uses (`ImageStore+Holds`).
            let used = try inUse().union(heldImages().keys)
            var index = try layout.index()
            var report = PruneReport()
            var gone: [Digest] = []
            index.manifests.removeAll { entry in
                let digest = Digest(entry.digest)
                let tag = entry.annotations?[OCIImage.refNameAnnotation]
                if let digest, used.contains(digest) { return false }
                if tag == nil, entry.annotations?[OCIImage.buildCacheAnnotation] != nil {
                    guard buildCache != .keep else { return false }
                    report.buildCacheImages += 1
                    return true
                }
                if buildCache == .only { return false }
                if tag != nil && !all { return false }
                if let tag { report.removed.append(.untagged(tag)) }
                if let digest, !gone.contains(digest) { gone.append(digest) }
                return true
            }
            for digest in gone where !index.manifests.contains(where: { $0.digest == digest.description }) {
                report.removed.append(.deleted(imageID(ofManifest: digest)))
            }
            if !gone.isEmpty || report.buildCacheImages > 0 { try layout.writeIndex(index) }
            let swept = try sweep(keeping: roots(index, inUse: used))
            report.deletedBlobs = swept.blobs
            report.deletedLayerDirectories = swept.layerDirectories
            report.freedBytes = swept.bytes
            if buildCache != .only {
                let downloads = try removeAbandonedDownloads()
                report.deletedDownloads = downloads.files
                report.freedBytes += downloads.bytes
            }
            return report
        }
    }
}
