#if canImport(Glibc)
import Glibc
#endif

/// `berth diff`: the changes an overlay upper dir holds, with `docker diff`'s rules.
///
/// For each path of the upper dir, depth first in name order:
/// - a whiteout (char 0/0) is `D`; so is an opaque directory (Docker's choice: the lower directory
///   was deleted, and what is in it now is listed below it);
/// - a path the lower layers have is `C`, except a directory whose mode, size and mtime equal the
///   lower one's: overlay copied it up only because something below it changed, and that child is
///   listed instead;
/// - anything else is `A`;
/// - the parent of an `A` or `D` is listed as `C` (before it) if nothing listed it yet: adding or
///   deleting a name changes the directory.
/// One difference from Docker: below an opaque directory every path is `A`, since the lower
/// content there is hidden (Docker looks each one up in the lower layers regardless).
public enum LayerDiff {
    /// The changes in `upperDirectory`. `lower` tells what the image has at a path ("/etc/motd"),
    /// nil if nothing: `lowerLookup(layers:)` builds it from unpacked layer dirs.
    public static func changes(upperDirectory: String, overlayXattrPrefix: String = "trusted.overlay.",
                               lower: @escaping (String) -> LowerFileInfo?) throws(LayerError) -> [LayerChange] {
        let root = open(upperDirectory, LayerFS.directoryFlags)
        guard root >= 0 else { throw LayerError.system("open upper directory \(upperDirectory)", entry: nil) }
        defer { close(root) }
        var state = Walk(opaqueXattr: overlayXattrPrefix + "opaque", lower: lower)
        try state.walk(root, "", belowOpaque: false)
        return state.changes
    }

    private struct Walk {
        let opaqueXattr: String
        let lower: (String) -> LowerFileInfo?
        var changes: [LayerChange] = []
        var listedDirectories: Set<String> = []

        mutating func walk(_ dir: Int32, _ parent: String, belowOpaque: Bool) throws(LayerError) {
            for name in try DirectoryListing.names(dir, entry: parent.isEmpty ? "/" : parent) {
                let path = parent + "/" + String(decoding: name, as: UTF8.self)
                // diff says what commit would: such a file cannot be stored.
                try Whiteout.refuseReservedName(name, entry: path)
                guard let st = LayerFS.lstatAt(dir, name) else { continue }
                let isDirectory = LayerFS.fileType(st.st_mode) == S_IFDIR
                var child: Int32 = -1
                defer { if child >= 0 { close(child) } }
                var opaque = false
                if isDirectory {
                    child = LayerFS.withCName(name) { openat(dir, $0, LayerFS.directoryFlags) }
                    guard child >= 0 else { throw LayerError.system("open directory", entry: path) }
                    opaque = XattrTarget.descriptor(child).value(opaqueXattr) == Array("y".utf8)
                }
                let whiteout = LayerFS.fileType(st.st_mode) == S_IFCHR && st.st_rdev == 0
                if let kind = classify(path, st, deleted: whiteout || opaque, belowOpaque: belowOpaque) {
                    if isDirectory { listedDirectories.insert(path) }
                    if kind != .changed, !parent.isEmpty, !listedDirectories.contains(parent) {
                        changes.append(LayerChange(.changed, parent))
                        listedDirectories.insert(parent)
                    }
                    changes.append(LayerChange(kind, path))
                }
                if isDirectory { try walk(child, path, belowOpaque: belowOpaque || opaque) }
            }
        }

        /// The change at `path`, nil for a directory overlay copied up unchanged.
        private func classify(_ path: String, _ st: stat, deleted: Bool, belowOpaque: Bool) -> LayerChange.Kind? {
            if deleted { return .deleted }
            guard !belowOpaque, let before = lower(path) else { return .added }
            let now = LowerFileInfo(st)
            if now.isDirectory, before.isDirectory, now.mode == before.mode, now.size == before.size,
               now.mtimeSeconds == before.mtimeSeconds,
               now.mtimeNanoseconds == before.mtimeNanoseconds || now.mtimeNanoseconds == 0 || before.mtimeNanoseconds == 0 {
                return nil
            }
            return .changed
        }
    }
}
