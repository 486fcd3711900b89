#if canImport(Glibc)
import Glibc
#endif

extension LayerDiff {
    /// What the merged view of unpacked layer dirs (`layers`, topmost first, as in overlay's
    /// lowerdir option) shows at a path, the way overlayfs resolves it: a layer's whiteout hides the
    /// path, a non-directory on the way hides everything below it, an opaque directory hides the
    /// layers under it.
    ///
    /// Each component is looked at with lstat before the next, so a symbolic link inside a layer
    /// ends the lookup instead of being followed out of the layer.
    public static func lowerLookup(layers: [String], overlayXattrPrefix: String = "trusted.overlay.") -> (String) -> LowerFileInfo? {
        let opaqueXattr = overlayXattrPrefix + "opaque"
        return { path in
            let components = path.split(separator: "/").map(String.init)
            guard !components.isEmpty else { return nil }
            for layer in layers {
                switch resolve(components, in: layer, opaqueXattr: opaqueXattr) {
                case .found(let info): return info
                case .hidden: return nil
                case .absent: continue
                }
            }
            return nil
        }
    }

    private enum Resolution {
        case found(LowerFileInfo)
        /// A whiteout, a non-directory parent or an opaque parent: the layers below do not count.
        case hidden
        /// This layer says nothing about the path: ask the next.
        case absent
    }

    private static func resolve(_ components: [String], in layer: String, opaqueXattr: String) -> Resolution {
        var current = layer
        var opaqueAbove = false
        for (i, component) in components.enumerated() {
            current += "/" + component
            var st = stat()
            guard lstat(current, &st) == 0 else { return opaqueAbove ? .hidden : .absent }
            let type = LayerFS.fileType(st.st_mode)
            if type == S_IFCHR, st.st_rdev == 0 { return .hidden }
            if i == components.count - 1 { return .found(LowerFileInfo(st)) }
            guard type == S_IFDIR else { return .hidden }
            if XattrTarget.path(Array(current.utf8)).value(opaqueXattr) == Array("y".utf8) { opaqueAbove = true }
        }
        return .absent
    }
}
