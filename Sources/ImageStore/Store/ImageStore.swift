import FileSystem
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// berth's image store, the facade the CLI and the container code use: images in an OCI image
/// layout, their layers unpacked once per chain id for overlayfs, all under one state root:
///
/// ```
/// <root>/oci/                 the OCI image layout (tags are index.json annotations)
/// <root>/tmp/                 blobs and layer directories being written (same filesystem)
/// <root>/layers/<chain-id>/   unpacked layers, the lowerdirs of overlayfs
/// <root>/store.lock           the StoreLock
/// ```
///
/// Every operation takes the store lock for its own duration (shared to read, exclusive to change
/// index.json), so many berth processes, and long-lived ones, can hold an `ImageStore` at once.
/// Content is always complete before anything names it: a blob lands under its digest only once
/// verified, a layer directory appears by rename once fully unpacked, and the tag is written last.
/// A berth killed at any point leaves only unreferenced blobs and directories, and whatever it
/// left in `tmp/` is removed by the next `ImageStore` opened.
public struct ImageStore: Sendable {
    public let root: String
    public let layout: OCILayout
    /// How layers are unpacked into `layers/` (resolve, import).
    public let unpackOptions: LayerUnpacker.Options

    public var temporaryDirectory: String { root + "/tmp" }
    public var layersDirectory: String { root + "/layers" }
    var lockPath: String { root + "/store.lock" }

    /// Opens the store at `root`, creating it when it is new, and removes what interrupted
    /// operations left behind. The cleanup needs the exclusive lock, and only takes it when it is
    /// free: opening the store never waits for another berth's import or commit (whose leftovers,
    /// if it dies, the next open with the lock free removes).
    public init(root: String, unpackOptions: LayerUnpacker.Options = .init()) throws {
        try Self.checkRoot(root)
        self.root = root
        self.unpackOptions = unpackOptions
        if access(root + "/oci/index.json", F_OK) == 0 {
            layout = OCILayout(existingAt: root + "/oci", temporaryDirectory: root + "/tmp")
            if let lock = StoreLock(tryPath: root + "/store.lock", mode: .exclusive) {
                removeIncomplete()
                lock.unlock()
            }
            return
        }
        try makeDirectories(root, mode: 0o700)
        let lock = try StoreLock(path: root + "/store.lock", mode: .exclusive)
        defer { lock.unlock() }
        try makeDirectories(root + "/tmp", mode: 0o700)
        try makeDirectories(root + "/layers")
        layout = try OCILayout(path: root + "/oci", temporaryDirectory: root + "/tmp")
        removeIncomplete()
    }

    /// Refuses a state root whose path overlayfs' mount options cannot carry (`OverlayOptionPath`):
    /// the layers and every container's upper directory live under it, so a run on it would fail
    /// only at the mount, after its container was made. Checked before anything is created.
    public static func checkRoot(_ root: String) throws {
        guard let character = OverlayOptionPath.unsafeCharacter(in: root) else { return }
        let quoted = OverlayOptionPath.unsafeCharacters.map { "'\($0)'" }
        let all = quoted.dropLast().joined(separator: ", ") + " or " + (quoted.last ?? "")
        throw ImageStoreError(.invalidArgument,
                              "the state root \(root) holds '\(character)', which overlayfs cannot take in a mount option: "
                                  + "choose a state directory (--root or BERTH_ROOT) without \(all)")
    }

    /// The path a layer stack is unpacked at.
    public func layerDirectory(chainID: Digest) -> String { layersDirectory + "/" + chainID.hex }

    /// Runs `body` holding the store lock.
    func locked<T>(_ mode: StoreLock.Mode, _ body: () throws -> T) throws -> T {
        let lock = try StoreLock(path: lockPath, mode: mode)
        defer { lock.unlock() }
        return try body()
    }

    // MARK: reading

    /// Every tag in the store, in index order; with `includeUntagged`, the untagged (dangling)
    /// images too, after them, as `<none>:<none>` (what `docker images` shows for them), the
    /// build cache's images left out.
    public func images(includeUntagged: Bool = false) throws -> [ImageSummary] {
        try locked(.shared) {
            // Only image manifests: a tag on an index (a multi-platform image another tool wrote)
            // has no single config to show.
            let entries = try layout.index().manifests.filter { OCIImage.MediaType.isImageManifest($0.mediaType) }
            let tagged = entries.compactMap { entry in entry.annotations?[OCIImage.refNameAnnotation].map { ($0, entry) } }
            let untagged = includeUntagged
                ? entries.filter { $0.annotations?[OCIImage.refNameAnnotation] == nil && $0.annotations?[OCIImage.buildCacheAnnotation] == nil }
                    .map { (ImageSummary.untaggedReference, $0) }
                : []
            return try (tagged + untagged).map { reference, entry in
                let digest = try entry.parsedDigest()
                let (manifest, _) = try readManifest(digest, name: reference)
                let configDigest = try manifest.config.parsedDigest()
                let config = try readConfig(configDigest, name: reference)
                let size = manifest.layers.reduce(manifest.config.size) { $0 + $1.size }
                return ImageSummary(reference: reference, id: configDigest, manifest: digest,
                                    created: config.created, size: size, layerCount: manifest.layers.count,
                                    indexDigest: entry.annotations?[OCIImage.indexDigestAnnotation].flatMap(Digest.init))
            }
        }
    }

    /// The image `reference` names, with every layer unpacked (a missing layer directory is
    /// unpacked from its blob, whose digest and diff_id are checked on the way).
    public func resolve(_ reference: ImageReference) throws -> ResolvedImage {
        try locked(.shared) {
            try resolveUnlocked(try layout.resolve(reference), name: reference.description)
        }
    }

    /// `resolve` for a caller that already holds the store lock (shared or exclusive).
    func resolveUnlocked(_ descriptor: OCIImage.Descriptor, name: String) throws -> ResolvedImage {
        guard OCIImage.MediaType.isImageManifest(descriptor.mediaType) else {
            throw ImageStoreError(.rejected, "\(name) names a \(descriptor.mediaType), not an image manifest")
        }
        let (manifest, manifestDigest) = try readManifest(try descriptor.parsedDigest(), name: name)
        let configDigest = try manifest.config.parsedDigest()
        let config = try readConfig(configDigest, name: name)
        let chain = try chainIDs(manifest, config, name: name)
        var directories: [String] = []
        for (i, layer) in manifest.layers.enumerated() {
            directories.append(try unpackLayer(layer, diffID: chain.diffIDs[i], chainID: chain.chainIDs[i]))
        }
        return ResolvedImage(manifestDigest: manifestDigest, manifest: manifest, configDigest: configDigest,
                             config: config, layerDirectories: directories.reversed())
    }

    /// The diff_ids of an image and their chain ids, checked against its manifest's layer count.
    func chainIDs(_ manifest: OCIImage.Manifest, _ config: OCIImage.Configuration,
                  name: String) throws -> (diffIDs: [Digest], chainIDs: [Digest]) {
        let diffIDs = try config.rootfs.diffIDs.map { try Digest.parse($0) }
        guard diffIDs.count == manifest.layers.count else {
            throw ImageStoreError(.corrupt, "image \(name) is damaged: its manifest lists \(manifest.layers.count) layers, "
                                      + "its config \(diffIDs.count) diff_ids")
        }
        return (diffIDs, ChainID.chain(diffIDs))
    }

    // MARK: tags

    /// Points `target` at the image `source` names (replacing what `target` named before).
    public func tag(_ source: ImageReference, as target: ImageReference) throws {
        guard target.digest == nil else {
            throw ImageStoreError(.invalidReference, "cannot tag as \(target): a tag cannot contain a digest")
        }
        try locked(.exclusive) {
            var descriptor = try layout.resolve(source)
            descriptor.annotations?[OCIImage.refNameAnnotation] = nil
            if descriptor.annotations?.isEmpty == true { descriptor.annotations = nil }
            try layout.tag(target, manifest: descriptor)
        }
    }

    /// Removes a tag; the image's content stays until garbage collection.
    public func untag(_ reference: ImageReference) throws {
        try locked(.exclusive) { _ = try layout.untag(reference) }
    }

    // MARK: documents

    func readManifest(_ digest: Digest, name: String) throws -> (OCIImage.Manifest, Digest) {
        let bytes = try layout.blobs.read(digest)
        do {
            return (try OCIImage.Manifest(json: try JSON.parse(bytes)), digest)
        } catch {
            throw ImageStoreError(.corrupt, "the manifest of \(name) does not parse: \(error)")
        }
    }

    func readConfig(_ digest: Digest, name: String) throws -> OCIImage.Configuration {
        let bytes = try layout.blobs.read(digest)
        do {
            return try OCIImage.Configuration(json: try JSON.parse(bytes))
        } catch {
            throw ImageStoreError(.corrupt, "the config of \(name) does not parse: \(error)")
        }
    }
}
