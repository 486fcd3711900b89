/// Finding an image by what a user typed: a tag, an image id, or a unique id prefix; and the hooks
/// that let a caller act on a resolved image while the store lock keeps it from being removed.
extension ImageStore {
    /// One image of the index, as a name found it.
    struct FoundImage {
        /// The index entry (its annotations are the tag, if it was found by tag).
        let descriptor: OCIImage.Descriptor
        let manifestDigest: Digest
        /// The tag the name used, nil when the name was an id.
        let tag: String?
    }

    /// The image `name` names (see `ImageName`); the caller holds the store lock.
    func findImage(_ name: ImageName) throws -> FoundImage {
        let entries = try layout.index().manifests
        if let reference = name.reference {
            let text = reference.description
            if let digest = reference.digest {
                guard let entry = OCILayout.entry(digest, of: reference, in: entries) else {
                    throw ImageStoreError(.notFound, "no image \(text) in the store: "
                                              + "\(reference.name) has no image with that digest (see berth images)")
                }
                // The entry's own digest: `digest` may be the index's it was pulled from.
                return FoundImage(descriptor: entry, manifestDigest: try entry.parsedDigest(), tag: nil)
            }
            if let entry = entries.first(where: { $0.annotations?[OCIImage.refNameAnnotation] == text }) {
                return FoundImage(descriptor: entry, manifestDigest: try entry.parsedDigest(), tag: text)
            }
        }
        guard let prefix = name.idPrefix else {
            throw ImageStoreError(.notFound, "no image \(name.reference?.description ?? name.text) in the store (see berth images)")
        }
        // By manifest digest, so that an image under several tags counts once.
        var matches: [String: (OCIImage.Descriptor, Digest)] = [:]
        for entry in entries {
            guard let manifestDigest = Digest(entry.digest) else { continue }
            if manifestDigest.hex.hasPrefix(prefix) {
                matches[manifestDigest.hex] = (entry, manifestDigest)
                continue
            }
            guard OCIImage.MediaType.isImageManifest(entry.mediaType),
                  let (manifest, _) = try? readManifest(manifestDigest, name: name.text) else { continue }
            if let config = Digest(manifest.config.digest), config.hex.hasPrefix(prefix) {
                matches[manifestDigest.hex] = (entry, manifestDigest)
            }
        }
        guard let first = matches.values.first else {
            throw ImageStoreError(.notFound, "no image \(name.text) in the store: no tag by that name and no image id starting with "
                                      + "\(prefix) (see berth images)")
        }
        guard matches.count == 1 else {
            let ids = matches.values.map { $0.1.short }.sorted().joined(separator: ", ")
            throw ImageStoreError(.conflict, "image id prefix \(prefix) matches \(matches.count) images (manifests \(ids)); give more characters")
        }
        return FoundImage(descriptor: first.0, manifestDigest: first.1, tag: nil)
    }

    /// The image a user's text names (tag, id or id prefix), every layer unpacked.
    public func resolve(_ name: String) throws -> ResolvedImage {
        try resolve(name) { $0 }
    }

    /// Resolves `name` and runs `body` while still holding the shared store lock, so a concurrent
    /// prune or rmi cannot remove the image's layers before `body` has recorded that it uses them
    /// (a container record). `body` must not call store methods that change the store: they wait
    /// for an exclusive lock this call holds shared (reads are fine).
    public func resolve<T>(_ name: String, whileLocked body: (ResolvedImage) throws -> T) throws -> T {
        let (image, lock) = try resolveKeepingLock(name)
        defer { lock.unlock() }
        return try body(image)
    }

    /// `resolve(_:whileLocked:)` for a caller whose record of the image's use comes later (a
    /// container recorded while its process sets itself up): the shared lock is returned held,
    /// and a prune or rmi waits until the caller unlocks it (or its process ends). The same rule:
    /// this process must not change the store while it holds it.
    public func resolveKeepingLock(_ name: String) throws -> (image: ResolvedImage, lock: StoreLock) {
        let parsed = try ImageName.parse(name)
        let lock = try StoreLock(path: lockPath, mode: .shared)
        do {
            let found = try findImage(parsed)
            return (try resolveUnlocked(found.descriptor, name: found.tag ?? name), lock)
        } catch {
            lock.unlock()
            throw error
        }
    }

    /// Runs `body` holding the store lock, for callers that must keep the store as it is across
    /// several steps of their own. The same rule as `resolve(_:whileLocked:)`: with `.shared`,
    /// `body` must not call store methods that change the store.
    public func withLock<T>(_ mode: StoreLock.Mode, _ body: () throws -> T) throws -> T {
        try locked(mode, body)
    }

    /// Points `target` at the image `source` names (a tag, an id or an id prefix).
    public func tag(_ source: String, as target: ImageReference) throws {
        let name = try ImageName.parse(source)
        guard target.digest == nil else {
            throw ImageStoreError(.invalidReference, "cannot tag as \(target): a tag cannot contain a digest")
        }
        try locked(.exclusive) {
            var descriptor = try findImage(name).descriptor
            descriptor.annotations?[OCIImage.refNameAnnotation] = nil
            // A tagged build result is an image, no longer build cache.
            descriptor.annotations?[OCIImage.buildCacheAnnotation] = nil
            if descriptor.annotations?.isEmpty == true { descriptor.annotations = nil }
            try layout.tag(target, manifest: descriptor)
        }
    }

    /// Every tag (full reference text) that names `manifest`, in index order.
    func tags(of manifest: Digest, in index: OCIImage.Index) -> [String] {
        index.manifests.compactMap { entry in
            entry.digest == manifest.description ? entry.annotations?[OCIImage.refNameAnnotation] : nil
        }
    }
}
