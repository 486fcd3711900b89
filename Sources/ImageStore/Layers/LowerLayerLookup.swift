import FileSystem

extension LayerDiff {
    /// What the merged view of unpacked layer dirs (`layers`, topmost first, as in overlay's
    /// lowerdir option) shows at a path, the way overlayfs resolves it: FileSystem's
    /// `OverlayLookup` (a whiteout hides the path, a non-directory on the way hides everything
    /// below it, an opaque directory hides the layers under it, a link is never followed).
    public static func lowerLookup(layers: [String], overlayXattrPrefix: String = "trusted.overlay.") -> (String) -> LowerFileInfo? {
        let lookup = OverlayLookup(layers: layers, opaqueXattr: overlayXattrPrefix + "opaque")
        return { path in
            guard case .visible(_, let status) = lookup.find(path) else { return nil }
            return LowerFileInfo(status)
        }
    }
}
