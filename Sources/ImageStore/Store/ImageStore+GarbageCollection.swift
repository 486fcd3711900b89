import JSON
#if canImport(Glibc)
import Glibc
#endif

/// Mark and sweep of the store's content: what no kept image reaches is deleted. The index is
/// written before this runs (by prune or rmi), so a crash in the middle leaves only more garbage
/// for the next run, never an index entry whose content is gone.
extension ImageStore {
    /// What a sweep deleted.
    struct SweepResult {
        var blobs = 0
        var layerDirectories = 0
        /// Bytes of the deleted blobs (unpacked layer directories are not measured: a walk of
        /// every file would cost more than the deletion).
        var bytes: Int64 = 0
    }

    /// Deletes every blob and layer directory that the manifests `roots` (with the index entries'
    /// media types, a nested image index followed to its manifests) do not reach. Holds no lock:
    /// the caller holds the exclusive one. A kept manifest or config that cannot be read stops
    /// the sweep before anything is deleted: what it reaches is unknown.
    func sweep(keeping roots: [(mediaType: String, digest: Digest)]) throws -> SweepResult {
        var blobs = Set<Digest>()
        var chains = Set<String>()
        var pending = roots
        while let (mediaType, digest) = pending.popLast() {
            guard blobs.insert(digest).inserted else { continue }
            if OCIImage.MediaType.isIndex(mediaType) {
                let index = try readDocument(OCIImage.Index.self, digest, "image index")
                pending += try index.manifests.map { ($0.mediaType, try $0.parsedDigest()) }
                continue
            }
            let manifest = try readDocument(OCIImage.Manifest.self, digest, "manifest")
            let configDigest = try manifest.config.parsedDigest()
            blobs.insert(configDigest)
            for layer in manifest.layers { blobs.insert(try layer.parsedDigest()) }
            let config = try readDocument(OCIImage.Configuration.self, configDigest, "config")
            let diffIDs = try config.rootfs.diffIDs.map { try Digest.parse($0) }
            for chainID in ChainID.chain(diffIDs) { chains.insert(chainID.hex) }
        }

        // Blobs a load or commit has stored and not recorded yet are kept too (see BlobPin).
        blobs.formUnion(pinnedBlobs())
        var result = SweepResult()
        for digest in layout.blobs.all() where !blobs.contains(digest) {
            var st = stat()
            let size = lstat(layout.blobs.path(of: digest), &st) == 0 ? Int64(st.st_size) : 0
            try layout.blobs.remove(digest)
            result.blobs += 1
            result.bytes += size
        }
        for name in listDirectory(layersDirectory) where !chains.contains(name) {
            // Out of layers/ by one rename, so no reader ever sees a half-deleted layer under its
            // chain id; whatever of it a crash leaves in tmp/ goes at the next open.
            let doomed = try makeTemporaryDirectory("gc") + "/layer"
            guard rename(layersDirectory + "/" + name, doomed) == 0 else {
                throw ImageStoreError(.systemError, "cannot move the unused layer directory \(name) out of \(layersDirectory)", errno: errno)
            }
            removeTree(String(doomed.dropLast("/layer".count)))
            result.layerDirectories += 1
        }
        // Best effort: the removals are done; one undone by a power cut is swept again next time.
        try? syncDirectory(layersDirectory)
        return result
    }

    /// A document blob of a kept image; unreadable is fatal to the sweep (see `sweep`).
    private func readDocument<T: Decodable>(_ type: T.Type, _ digest: Digest, _ what: String) throws -> T {
        do {
            return try JSON.decode(T.self, from: try layout.blobs.read(digest), source: "\(what) \(digest)")
        } catch {
            throw ImageStoreError(.corrupt, "cannot collect garbage: the \(what) \(digest.short) of an image that is kept cannot be "
                                      + "read (\(error)); remove that image or restore the blob, then retry")
        }
    }

    /// The roots of a sweep: the index's entries and the manifests containers use (those still
    /// in the store).
    func roots(_ index: OCIImage.Index, inUse: Set<Digest>) -> [(mediaType: String, digest: Digest)] {
        var roots = index.manifests.compactMap { entry in Digest(entry.digest).map { (entry.mediaType, $0) } }
        let listed = Set(roots.map(\.1))
        for digest in inUse where !listed.contains(digest) && layout.blobs.contains(digest) {
            roots.append((OCIImage.MediaType.manifest, digest))
        }
        return roots
    }

    /// The image id of a manifest, for reports; the manifest digest when it cannot be read.
    func imageID(ofManifest digest: Digest) -> Digest {
        guard let bytes = try? layout.blobs.read(digest),
              let manifest = try? JSON.decode(OCIImage.Manifest.self, from: bytes),
              let config = Digest(manifest.config.digest) else { return digest }
        return config
    }
}
