import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// A container root made of overlayfs: read-only layer directories under the container's own
/// writable upper directory. The child mounts it at the config's `rootfs` inside the container's
/// mount namespace, so the host's mount table never holds it and it disappears with the
/// container; the upper directory is what `diff` and `commit` read afterwards.
public struct OverlayRoot: Sendable, Equatable {
    /// Layer directories, topmost first (overlayfs' lowerdir order).
    public var lowerDirectories: [String]
    public var upperDirectory: String
    /// overlayfs' work directory: empty, on the same filesystem as the upper directory.
    public var workDirectory: String
    /// A directory berth may fill with short symlinks to the layers, for kernels whose overlayfs
    /// takes the layers only as one page-sized option string (before "lowerdir+" in 6.8).
    public var linkDirectory: String
    /// The upper directory is removed with the container (`run --rm`), so it is mounted with
    /// overlayfs' "volatile": no sync of the whole upper filesystem when the container's mount
    /// namespace goes away. That sync is most of what an overlay root adds to a short container's
    /// run on a disk without a journal, where it writes every dirty metadata block and flushes.
    /// A kept container's upper dir is what `commit` packs, so it keeps the sync.
    public var isDisposable: Bool

    public init(lowerDirectories: [String], upperDirectory: String, workDirectory: String, linkDirectory: String,
                isDisposable: Bool = false) {
        self.lowerDirectories = lowerDirectories
        self.upperDirectory = upperDirectory
        self.workDirectory = workDirectory
        self.linkDirectory = linkDirectory
        self.isDisposable = isDisposable
    }

    /// overlayfs' own limit on stacked layers.
    public static let maximumLayers = 500

    /// Checks what the mount would otherwise refuse with a bare EINVAL.
    func validate() throws {
        guard !lowerDirectories.isEmpty else {
            throw RuntimeError(.invalidArgument, "an overlay root needs at least one layer")
        }
        guard lowerDirectories.count <= Self.maximumLayers else {
            throw RuntimeError(.invalidArgument,
                               "the image has \(lowerDirectories.count) layers; overlayfs stacks at most \(Self.maximumLayers)")
        }
        for path in lowerDirectories + [upperDirectory, workDirectory] {
            // The option string separates layers with ':' and options with ',', and reads a backslash as an escape.
            guard path.hasPrefix("/"), OverlayOptionPath.unsafeCharacter(in: path) == nil else {
                throw RuntimeError(.invalidArgument, "overlay directory \(path) must be an absolute path without ':', ',' or '\\'")
            }
        }
    }

    /// The lower names to put in the option string when the full paths would not fit in a page:
    /// 0, 1, 2… (base 36), symlinks in `linkDirectory` to the layers, or nil when the paths fit
    /// as they are. The child makes the links, and only when the kernel lacks "lowerdir+": a
    /// deep image on a current kernel costs no file per layer.
    func shortNamesIfNeeded() -> [String]? {
        let length = lowerDirectories.reduce(0) { $0 + $1.utf8.count + 1 }
            + upperDirectory.utf8.count + workDirectory.utf8.count + 80
        guard length > 4000 else { return nil }
        return lowerDirectories.indices.map { String($0, radix: 36) }
    }
}
