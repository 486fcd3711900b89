/// `berth rmi`: removes a tag or an image, with Docker's refusals.
extension ImageStore {
    /// Removes what `name` names, Docker's way:
    /// - by tag: the tag goes; when it was the image's last tag the image goes too, unless a
    ///   container uses it (refused; with `force` the tag goes and the image stays, untagged);
    /// - by id: refused when several tags name the image or a container uses it, unless `force`
    ///   (then every tag goes, and the image too unless a container uses it).
    /// A removed image's blobs and layer directories are deleted right away (with whatever else no
    /// image reaches), so rmi frees the space as `docker rmi` does. `inUse` (the manifest digests
    /// containers use) is asked while the exclusive lock is held; a held image counts as used.
    @discardableResult
    public func removeImage(_ name: String, force: Bool, inUse: () throws -> Set<Digest>) throws -> [RemovedImage] {
        let parsed = try ImageName.parse(name)
        return try locked(.exclusive) {
            let found = try findImage(parsed)
            var index = try layout.index()
            let held = heldImages()
            let usedByContainers = try inUse()
            let usedSet = usedByContainers.union(held.keys)
            let used = usedSet.contains(found.manifestDigest)
            let allTags = tags(of: found.manifestDigest, in: index)
            let described = "\(allTags.first ?? name) (\(imageID(ofManifest: found.manifestDigest).short))"
            // A held image no container uses is refused for its holder's sake (`ImageStore+Holds`).
            let holder = usedByContainers.contains(found.manifestDigest) ? nil : held[found.manifestDigest]
            let inUseRefusal = holder.map { "image \(described) is kept for \($0); use -f to untag it anyway" }
                ?? "image \(described) is used by a container; remove the container first or use -f"
            let removeTags: [String]
            if let tag = found.tag {
                if allTags.count > 1 {
                    removeTags = [tag]
                } else {
                    guard !used || force else {
                        throw ImageStoreError(.conflict, inUseRefusal)
                    }
                    removeTags = [tag]
                }
            } else {
                guard allTags.count <= 1 || force else {
                    let image = imageID(ofManifest: found.manifestDigest).short
                    throw ImageStoreError(.conflict, "image \(image) is referenced by several tags (\(allTags.joined(separator: ", "))); "
                                              + "remove them by tag or use -f")
                }
                guard !used || force else {
                    throw ImageStoreError(.conflict, inUseRefusal)
                }
                removeTags = allTags
            }

            var removed = removeTags.map { RemovedImage.untagged($0) }
            index.manifests.removeAll { entry in
                entry.annotations?[OCIImage.refNameAnnotation].map(removeTags.contains) ?? false
            }
            let remaining = tags(of: found.manifestDigest, in: index)
            if remaining.isEmpty {
                if used {
                    // Still found by id until its container is gone and a prune runs.
                    OCILayout.keepUntagged(found.descriptor, in: &index)
                } else {
                    index.manifests.removeAll { $0.digest == found.manifestDigest.description }
                    removed.append(.deleted(imageID(ofManifest: found.manifestDigest)))
                }
            }
            try layout.writeIndex(index)
            if removed.contains(where: { if case .deleted = $0 { true } else { false } }) {
                _ = try sweep(keeping: roots(index, inUse: usedSet))
            }
            return removed
        }
    }
}
