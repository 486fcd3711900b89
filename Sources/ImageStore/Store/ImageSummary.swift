/// One tagged image as `berth images` lists it.
public struct ImageSummary: Sendable, Equatable {
    /// The reference as the index names it (`busybox:1.35`); a layout written by another tool may
    /// hold a bare tag, so this stays the text rather than a parsed `ImageReference`.
    public let reference: String
    /// The image id: the digest of its configuration (`id.short` is what people see).
    public let id: Digest
    /// The digest of the manifest the tag points at.
    public let manifest: Digest
    /// The config's `created` (RFC 3339), when it has one.
    public let created: String?
    /// Bytes in the store: the compressed layers plus the config.
    public let size: Int64
    public let layerCount: Int
    /// The multi-platform index it was pulled from (`OCIImage.indexDigestAnnotation`): the
    /// digest the registry knows the image by, shown as Docker shows it.
    public var indexDigest: Digest?

    /// What the registry knows the image by: the index's digest, or the manifest's.
    public var registryDigest: Digest { indexDigest ?? manifest }

    /// The `reference` of an untagged image in `images(includeUntagged: true)`.
    public static let untaggedReference = "<none>:<none>"

    public init(reference: String, id: Digest, manifest: Digest, created: String?, size: Int64, layerCount: Int,
                indexDigest: Digest? = nil) {
        self.indexDigest = indexDigest
        self.reference = reference
        self.id = id
        self.manifest = manifest
        self.created = created
        self.size = size
        self.layerCount = layerCount
    }
}

/// An image ready to run: its documents and its layers unpacked, in the order overlayfs wants
/// them (`OverlayRoot.lowerDirectories`: the topmost layer first).
public struct ResolvedImage: Sendable {
    public let manifestDigest: Digest
    public let manifest: OCIImage.Manifest
    /// The image id.
    public let configDigest: Digest
    public let config: OCIImage.Configuration
    /// `layers/<chain-id>` of every layer, topmost first.
    public let layerDirectories: [String]
}

/// What `ImageStore.importImage` reads.
public enum ImportSource: Sendable, Equatable {
    /// A root filesystem tree, packed as it is (ownership, modes, xattrs, devices).
    case directory(String)
    /// A tar file, plain or compressed (gzip, zstd, xz, bzip2: libarchive detects which).
    case tarFile(String)
}
