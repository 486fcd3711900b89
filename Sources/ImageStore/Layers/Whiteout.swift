/// The two spellings of a deletion: OCI's in a layer tar, overlayfs' in an unpacked layer dir.
///
/// OCI (image-spec layer.md) marks a deleted path `p` by an empty file `.wh.p` next to it, and a
/// directory whose lower content is hidden by `.wh..wh..opq` inside it. Overlayfs marks the first
/// by a character device 0/0 named `p`, the second by the xattr `<prefix>opaque = y` on the
/// directory. The unpacker converts the first into the second, the packer the reverse.
enum Whiteout {
    static let prefix: [UInt8] = Array(".wh.".utf8)
    static let opaqueMarker: [UInt8] = Array(".wh..wh..opq".utf8)
    /// AUFS kept its own metadata under `.wh..wh.` (`.wh..wh.plnk`, `.wh..wh.aufs`); layers made by
    /// old Docker versions still carry it, and Docker skips it on extraction. So do we.
    static let metaPrefix: [UInt8] = Array(".wh..wh.".utf8)

    /// What a tar entry's last component means.
    enum Meaning: Equatable {
        case plain
        /// Hide `name` of the lower layers.
        case whiteout(name: [UInt8])
        /// Hide all lower content of the parent directory.
        case opaque
        /// AUFS bookkeeping: skip.
        case aufsMetadata
    }

    static func meaning(of name: [UInt8]) -> Meaning {
        guard name.starts(with: prefix) else { return .plain }
        if name == opaqueMarker { return .opaque }
        if name.starts(with: metaPrefix) { return .aufsMetadata }
        return .whiteout(name: Array(name.dropFirst(prefix.count)))
    }

    /// `.wh.<name>`.
    static func tarName(hiding name: [UInt8]) -> [UInt8] { prefix + name }

    /// Refuses a file of a container's own named `.wh.*`: in a layer that name means a deletion
    /// (or an opaque directory), so packing it would silently delete files instead of storing
    /// this one (issue 11).
    static func refuseReservedName(_ name: [UInt8], entry: String) throws(LayerError) {
        guard name.starts(with: prefix) else { return }
        throw LayerError(.unsupported, entry: entry,
                         "a file named .wh.* cannot be stored in an image layer, where such names mean deletions: "
                             + "rename or remove it first")
    }
}
