/// The rule for a directory path that goes into overlayfs' mount options (lowerdir, upperdir,
/// workdir): the option string separates options with ',' and layers with ':', and the kernel
/// reads '\' as an escape, so a path holding any of them names another directory than the one
/// meant, or none (a bare EINVAL or ENOENT at the mount). berth refuses such a path instead of
/// escaping it: every overlay directory lives under the state root, so checking the root once,
/// where the store is opened, keeps every later mount's paths clean.
public enum OverlayOptionPath {
    /// The characters overlayfs' mount options cannot carry in a path.
    public static let unsafeCharacters: [Character] = [",", ":", "\\"]

    /// The first character of `path` an overlay mount option cannot carry, or nil when there is none.
    public static func unsafeCharacter(in path: String) -> Character? {
        path.first { unsafeCharacters.contains($0) }
    }
}
