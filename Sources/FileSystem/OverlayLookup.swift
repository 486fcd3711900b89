import CFileSystem
#if canImport(Glibc)
import Glibc
#endif

/// What a stack of overlay layer directories shows at a path, resolved the way overlayfs
/// resolves it, without mounting anything: the image store diffs against it and `run -u` reads
/// /etc/passwd through it before the container's overlay exists.
///
/// The layers are in overlay's on-disk form (as the store unpacks them, and as an upper
/// directory is): a whiteout is a character device 0:0 (an OCI tar's `.wh.NAME` becomes one when
/// unpacked), an opaque directory carries the `opaqueXattr` = "y".
///
/// Each component is looked at with lstat before the next, so a symbolic link inside a layer
/// ends the lookup (`.behindNonDirectory`) instead of being followed out of the layer.
public struct OverlayLookup: Sendable {
    /// Layer directories, topmost first, as in overlay's lowerdir option.
    public let layers: [String]
    /// The xattr overlay marks an opaque directory with: "trusted.overlay.opaque", or
    /// "user.overlay.opaque" for an overlay mounted with userxattr.
    public let opaqueXattr: String

    public init(layers: [String], opaqueXattr: String = "trusted.overlay.opaque") {
        self.layers = layers
        self.opaqueXattr = opaqueXattr
    }

    /// Where a path stands in the merged view.
    public enum Visibility {
        /// `layers[layer]` holds what the path shows; `status` is its lstat there (it may be a
        /// symbolic link, which this lookup does not follow).
        case visible(layer: Int, status: stat)
        /// In `layers[layer]` a non-directory (a file, or a symbolic link that overlay would
        /// resolve in the merged view) sits where a directory on the way should be; the layers
        /// below are hidden by it.
        case behindNonDirectory(layer: Int, status: stat)
        /// No layer shows the path: absent, whited out, or under an opaque directory.
        case absent
    }

    /// `path` (absolute or not; "/" and "" name the root, which is not looked up) in the merged view.
    public func find(_ path: String) -> Visibility {
        let components = path.split(separator: "/").map(String.init)
        guard !components.isEmpty else { return .absent }
        for (index, layer) in layers.enumerated() {
            switch resolve(components, in: layer, index: index) {
            case .decided(let visibility): return visibility
            case .notHere: continue
            }
        }
        return .absent
    }

    private enum LayerAnswer {
        case decided(Visibility)
        /// This layer says nothing about the path: the next one is asked.
        case notHere
    }

    private func resolve(_ components: [String], in layer: String, index: Int) -> LayerAnswer {
        var current = layer
        var opaqueAbove = false
        for (i, component) in components.enumerated() {
            current += "/" + component
            var st = stat()
            guard lstat(current, &st) == 0 else { return opaqueAbove ? .decided(.absent) : .notHere }
            let type = st.st_mode & S_IFMT
            if type == S_IFCHR, st.st_rdev == 0 { return .decided(.absent) }
            if i == components.count - 1 { return .decided(.visible(layer: index, status: st)) }
            guard type == S_IFDIR else { return .decided(.behindNonDirectory(layer: index, status: st)) }
            if isOpaque(current) { opaqueAbove = true }
        }
        return .notHere
    }

    /// Whether the directory at `path` (already known not to be a link) is opaque: its xattr is
    /// exactly "y".
    private func isOpaque(_ path: String) -> Bool {
        // Two bytes: a longer value (ERANGE) is not "y" either.
        var value: [UInt8] = [0, 0]
        let n = lgetxattr(path, opaqueXattr, &value, value.count)
        return n == 1 && value[0] == UInt8(ascii: "y")
    }
}
