/// `berth history`: an image's layers and the steps that made them.
extension ImageStore {
    /// One step of an image's history, as `docker history` shows it.
    public struct HistoryEntry: Sendable, Equatable {
        /// The image id on the newest entry only (the IMAGE column; the others show `<missing>`).
        public let id: Digest?
        public let created: String?
        public let createdBy: String?
        /// Bytes of the step's layer blob; 0 for a step that made no layer (`empty_layer`).
        public let size: Int64
        public let comment: String?
        public let author: String?
        public let emptyLayer: Bool
    }

    /// The history of the image `name` names (tag, id or id prefix), newest first. Each step that
    /// is not `empty_layer` takes the next layer of the manifest, oldest first; an image without
    /// history (or with fewer steps than layers) gets a bare step per unaccounted layer.
    public func history(_ name: String) throws -> [HistoryEntry] {
        let parsed = try ImageName.parse(name)
        return try locked(.shared) {
            let found = try findImage(parsed)
            let (manifest, _) = try readManifest(found.manifestDigest, name: name)
            let configDigest = try manifest.config.parsedDigest()
            let config = try readConfig(configDigest, name: name)
            var layers = manifest.layers.makeIterator()
            var entries: [HistoryEntry] = []
            for step in config.history ?? [] {
                let empty = step.emptyLayer ?? false
                let size = empty ? 0 : (layers.next()?.size ?? 0)
                entries.append(HistoryEntry(id: nil, created: step.created, createdBy: step.createdBy, size: size,
                                            comment: step.comment, author: step.author, emptyLayer: empty))
            }
            while let layer = layers.next() {
                entries.append(HistoryEntry(id: nil, created: nil, createdBy: nil, size: layer.size,
                                            comment: nil, author: nil, emptyLayer: false))
            }
            entries.reverse()
            if let top = entries.first {
                entries[0] = HistoryEntry(id: configDigest, created: top.created, createdBy: top.createdBy, size: top.size,
                                          comment: top.comment, author: top.author, emptyLayer: top.emptyLayer)
            }
            return entries
        }
    }
}
