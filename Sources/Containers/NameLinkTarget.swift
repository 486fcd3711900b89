import FileSystem

/// What a name's link in `container-names/` holds: its container's id in base64url, 43
/// characters rather than 64 hex digits. ext4 keeps a symlink's target in the inode itself when it
/// is under 60 bytes, so the link takes no block of its own, and removing it frees none (on a
/// file system mounted with `discard`, every freed block costs a synchronous discard). A hex
/// target, as older state has, is read as it is.
enum NameLinkTarget {
    /// The target for `id`; an id that is not 64 lowercase hex digits is written as it is.
    static func target(of id: String) -> String {
        guard id.utf8.count == 64, let bytes = Hex.decode(id) else { return id }
        return Base64.encode(bytes, .url)
    }

    /// The id a target names: a 43-character base64url target decoded, anything else as it is.
    static func id(from target: String) -> String {
        guard target.utf8.count == 43, let bytes = Base64.decode(target, .url) else { return target }
        return Hex.encode(bytes)
    }
}
