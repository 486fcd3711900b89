#if canImport(Glibc)
import Glibc
#endif

/// Unpacks an OCI layer (a tar, gzip- zstd- xz- bzip2-compressed or not) into a directory that
/// becomes an overlayfs lowerdir, converting OCI whiteouts into overlay's form on the way.
///
/// The target directory should be fresh and empty (the store unpacks into a temporary directory
/// and renames it into `layers/<chain-id>/`): a whiteout is applied *as a marker*, never by
/// deleting anything, since hiding lower content is the overlay's job at mount time.
///
/// Hostile layers: no entry is written outside the directory. See `LayerExtraction` for how.
public struct LayerUnpacker: Sendable {
    /// What the unpacker may create, and how it marks opaque directories.
    public struct Options: Sendable {
        /// Character and block devices (other than the 0/0 whiteout device) are created only when
        /// true. `import` of an untrusted tarball by a caller that is not root-safe sets it false:
        /// a device node in a layer is a door to the host's hardware for anyone who can run it.
        public var allowDevices: Bool
        /// chown entries to the tar's numeric uid/gid. Needs root (CAP_CHOWN); without it every file
        /// belongs to the caller.
        public var preserveOwnership: Bool
        /// Where overlayfs looks for its opaque flag: "trusted.overlay." (needs CAP_SYS_ADMIN), or
        /// "user.overlay." for a mount with the userxattr option (rootless).
        public var overlayXattrPrefix: String

        public init(allowDevices: Bool = true,
                    preserveOwnership: Bool = geteuid() == 0,
                    overlayXattrPrefix: String = "trusted.overlay.") {
            self.allowDevices = allowDevices
            self.preserveOwnership = preserveOwnership
            self.overlayXattrPrefix = overlayXattrPrefix
        }
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Reads the layer from `input` (to its end) and unpacks it into `directory`, which must exist.
    /// `observer` sees the stored and the uncompressed bytes as they pass (for the store's digests).
    ///
    /// On error the directory holds part of the layer: the caller removes it (it is a temporary
    /// directory, which is why the store never unpacks in place).
    public func unpack(from input: Int32, into directory: String,
                       observer: LayerStreamObserver = LayerStreamObserver()) throws(LayerError) -> LayerUnpackResult {
        let root = open(directory, LayerFS.directoryFlags)
        guard root >= 0 else { throw LayerError.system("open layer directory \(directory)", entry: nil) }
        defer { close(root) }
        let reader = try LayerTarReader(fd: input, observer: observer)
        let extraction = LayerExtraction(rootFD: root, options: options, reader: reader)
        var entries = 0
        while let entry = try reader.nextEntry() {
            try extraction.apply(TarEntryHeader(entry))
            entries += 1
        }
        try reader.finish()
        try extraction.finish()
        return LayerUnpackResult(compression: reader.compression, storedBytes: reader.storedBytes,
                                 uncompressedBytes: reader.uncompressedBytes, entries: entries,
                                 skippedXattrs: extraction.skippedXattrs)
    }
}

/// What an unpack found, for the store's records and checks.
public struct LayerUnpackResult: Sendable, Equatable {
    /// The compression libarchive detected.
    public let compression: LayerCompression
    /// Bytes read from the fd (the blob's size).
    public let storedBytes: Int64
    /// Bytes of the uncompressed tar, end blocks and padding included (what the diff_id covers).
    public let uncompressedBytes: Int64
    /// Tar entries read, whiteouts and skipped AUFS metadata included.
    public let entries: Int
    /// Extended attributes the target filesystem cannot store (EOPNOTSUPP) or that are host labels
    /// (security.selinux) that could not be set, as "entry: name": the layer is usable without
    /// them, but the caller may want to say so.
    public let skippedXattrs: [String]
}
