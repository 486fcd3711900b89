#if canImport(Glibc)
import Glibc
#endif

/// What the image's layers have at a path, as much as `LayerDiff` needs to tell a changed directory
/// from one that overlay only copied up on the way to a changed child.
public struct LowerFileInfo: Sendable, Equatable {
    /// st_mode: type and permission bits.
    public let mode: UInt32
    public let size: Int64
    public let mtimeSeconds: Int64
    public let mtimeNanoseconds: Int64

    public var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }

    public init(mode: UInt32, size: Int64, mtimeSeconds: Int64, mtimeNanoseconds: Int64) {
        self.mode = mode
        self.size = size
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
    }

    init(_ st: stat) {
        self.init(mode: UInt32(st.st_mode), size: Int64(st.st_size),
                  mtimeSeconds: Int64(st.st_mtim.tv_sec), mtimeNanoseconds: Int64(st.st_mtim.tv_nsec))
    }
}
