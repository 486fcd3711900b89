import CFileSystem
#if canImport(Glibc)
import Glibc
#endif

/// The few system-call helpers the layer code shares: byte names as C strings, the Linux flags Glibc
/// hides behind `_GNU_SOURCE`, and device numbers (whole writes
/// and reads are FileSystem's `FileIO`).
///
/// Kept in one namespace so that the store's own helpers (same module, written separately) cannot
/// collide with them.
enum LayerFS {
    // Linux values of flags that Swift's Glibc module does not import (they need _GNU_SOURCE).
    static let oNoAtime: Int32 = 0o1000000
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4

    /// Directory open flags for walking a tree we do not trust: a symbolic link or a non-directory
    /// in place of a directory fails (ELOOP / ENOTDIR) instead of being followed.
    static let directoryFlags: Int32 = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC

    /// Calls `body` with `name` NUL-terminated. Names are bytes (see LayerPath), so this replaces
    /// `String.withCString` throughout.
    static func withCName<R, E: Error>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) throws(E) -> R) throws(E) -> R {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: name.count + 1)
        defer { buffer.deallocate() }
        name.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: name.count) }
        }
        buffer[name.count] = 0
        return try body(buffer)
    }

    /// The bytes of a C string (a libarchive name, a `d_name`), without decoding.
    static func bytes(_ cString: UnsafePointer<CChar>) -> [UInt8] {
        let count = strlen(cString)
        return cString.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }

    /// "/proc/self/fd/<dir>/<name>": a path that names `name` inside the directory open as `dir`
    /// without resolving anything above it. The l*xattr calls need a path (an O_PATH fd is refused,
    /// and fifos or devices cannot be opened without side effects), and this one cannot be raced:
    /// the magic link pins the directory, and `name` itself is not followed by the l* calls.
    static func procPath(dir: Int32, name: [UInt8]) -> [UInt8] {
        Array("/proc/self/fd/\(dir)/".utf8) + name
    }

    /// pipe2(2) with O_CLOEXEC: a pipe whose ends are close-on-exec from the start, so a process
    /// another thread spawns meanwhile cannot inherit (and hold open) an end.
    static func pipeCloexec(_ ends: UnsafeMutablePointer<Int32>) -> Int32 { berth_pipe_cloexec(ends) }

    static func makeDevice(major: UInt32, minor: UInt32) -> dev_t {
        let ma = UInt64(major), mi = UInt64(minor)
        return dev_t(((ma & 0xffff_f000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffff_ff00) << 12) | (mi & 0xff))
    }

    static func major(_ device: dev_t) -> UInt32 {
        let d = UInt64(device)
        return UInt32(((d >> 32) & 0xffff_f000) | ((d >> 8) & 0xfff))
    }

    static func minor(_ device: dev_t) -> UInt32 {
        let d = UInt64(device)
        return UInt32(((d >> 12) & 0xffff_ff00) | (d & 0xff))
    }

    static func fileType(_ mode: mode_t) -> mode_t { mode & S_IFMT }

    /// lstat relative to a directory fd; nil with errno set when the name does not resolve.
    static func lstatAt(_ dir: Int32, _ name: [UInt8]) -> stat? {
        var st = stat()
        let rc = withCName(name) { fstatat(dir, $0, &st, AT_SYMLINK_NOFOLLOW) }
        return rc == 0 ? st : nil
    }
}
