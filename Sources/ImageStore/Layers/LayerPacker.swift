#if canImport(Glibc)
import Glibc
#endif

/// Turns a container's overlay upper dir into an OCI layer tar (the heart of `commit`), converting
/// overlay's whiteouts into OCI's on the way.
///
/// The same tree gives the same bytes: names are walked in bytewise order, mtimes are kept (to the
/// second, as Docker writes them), atime and ctime, user and group names are left out, and a gzip
/// stream carries no timestamp. So re-committing an unchanged container gives the same digest.
///
/// The upper dir must come from a mount with `redirect_dir=off,metacopy=off` (say so in the mount
/// options: the defaults are kernel build options): with them on, a renamed directory or a chmod-ed
/// file keeps its data in a lower layer and the upper dir alone is not the change. Packing refuses
/// such an upper dir rather than write a layer that silently lacks content.
public struct LayerPacker: Sendable {
    /// Compression and the overlay xattr namespace.
    public struct Options: Sendable {
        /// `.gzip` for layers the store keeps (the OCI default every registry and runtime reads),
        /// `.none` when the caller compresses or only needs the tar.
        public var compression: LayerCompression
        /// The filter's level (gzip 1–9, zstd 1–19); nil for libarchive's default (gzip 6, zstd 3).
        public var compressionLevel: Int?
        /// Where overlayfs keeps its flags: "trusted.overlay.", or "user.overlay." for a mount
        /// with the userxattr option.
        public var overlayXattrPrefix: String
        /// Whether device nodes other than overlay's whiteouts are packed (a commit keeps what
        /// the container made) or refused, naming the file (an import without --allow-devices).
        public var allowDevices: Bool
        /// The upper dir of a container with its own user namespace: its owners are shifted back.
        public var ownerMap: LayerOwnerMap?

        public init(compression: LayerCompression = .gzip, compressionLevel: Int? = nil,
                    overlayXattrPrefix: String = "trusted.overlay.", allowDevices: Bool = true,
                    ownerMap: LayerOwnerMap? = nil) {
            self.ownerMap = ownerMap
            self.compression = compression
            self.compressionLevel = compressionLevel
            self.overlayXattrPrefix = overlayXattrPrefix
            self.allowDevices = allowDevices
        }
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Writes the layer for the upper dir at `directory` to `output` (which is not closed).
    /// `observer` sees the tar bytes and the stored (compressed) bytes, for the store's digests.
    ///
    /// The directory should not change while it is packed (a stopped or frozen container): the
    /// walk reads each file once, so a file changing under it is packed as some state it had.
    public func pack(directory: String, to output: Int32,
                     observer: LayerStreamObserver = LayerStreamObserver()) throws(LayerError) -> LayerPackResult {
        let root = open(directory, LayerFS.directoryFlags)
        guard root >= 0 else { throw LayerError.system("open upper directory \(directory)", entry: nil) }
        defer { close(root) }
        let writer = try LayerTarWriter(fd: output, compression: options.compression,
                                        level: options.compressionLevel, observer: observer)
        let walk = UpperDirWalk(writer: writer, overlayXattrPrefix: options.overlayXattrPrefix,
                                allowDevices: options.allowDevices, ownerMap: options.ownerMap)
        try walk.run(rootFD: root)
        try writer.close()
        return LayerPackResult(compression: options.compression, storedBytes: writer.storedBytes,
                               uncompressedBytes: writer.uncompressedBytes, entries: walk.entries)
    }
}

/// What a pack wrote, for the store's records (blob size, and the manifest's layer media type).
public struct LayerPackResult: Sendable, Equatable {
    public let compression: LayerCompression
    /// Bytes written to the fd: the blob's size.
    public let storedBytes: Int64
    /// Bytes of the tar before compression.
    public let uncompressedBytes: Int64
    /// Tar entries written, whiteout entries included.
    public let entries: Int
}
