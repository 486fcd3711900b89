#if canImport(Glibc)
import Glibc
#endif

/// Making, listing and syncing directories.
public enum Directory {
    /// mkdir -p: every missing component of `path` is made with `mode`; existing ones are left as
    /// they are.
    public static func make(_ path: String, mode: mode_t = 0o755) throws(FileSystemError) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            // `String(component)` rather than `"/" + component`: appending a Substring goes
            // through a generic append whose first use looks a conformance up at run time.
            partial += "/"
            partial += String(component)
            if mkdir(partial, mode) != 0 && errno != EEXIST {
                throw FileSystemError("mkdir", partial)
            }
        }
    }

    /// The names in the directory at `path` (without `.` and `..`), sorted.
    public static func names(atPath path: String) throws(FileSystemError) -> [String] {
        try entries(atPath: path).map { String(decoding: $0.name, as: UTF8.self) }.sorted()
    }

    /// The entries of the directory at `path`, in the filesystem's order.
    public static func entries(atPath path: String) throws(FileSystemError) -> [Entry] {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError("open", path) }
        defer { close(fd) }
        return try entries(fd, path: path)
    }

    /// The names in the directory open as `fd`, as bytes (a name need not be UTF-8), sorted
    /// bytewise so that every walk over the same tree sees the same order whatever the
    /// filesystem's hash order is.
    public static func names(_ fd: Int32, path: String) throws(FileSystemError) -> [[UInt8]] {
        var names = try entries(fd, path: path).map(\.name)
        names.sort { $0.lexicographicallyPrecedes($1) }
        return names
    }

    /// One entry of a directory: its name and the d_type readdir gave (DT_UNKNOWN on
    /// filesystems that do not fill it in).
    public struct Entry: Sendable {
        public let name: [UInt8]
        public let type: UInt8
    }

    /// The entries of the directory open as `fd`, in the filesystem's order, from its start
    /// whatever the fd's offset was. The fd stays open and its offset is not relied on later.
    public static func entries(_ fd: Int32, path: String) throws(FileSystemError) -> [Entry] {
        // fdopendir takes over the fd it is given: a duplicate leaves the caller's own.
        let copy = dup(fd)
        guard copy >= 0 else { throw FileSystemError("dup", path) }
        guard let dir = fdopendir(copy) else {
            let err = errno
            close(copy)
            throw FileSystemError("fdopendir", path, errno: err)
        }
        defer { closedir(dir) }
        // The duplicate shares its offset with `fd`, which an earlier listing may have moved.
        rewinddir(dir)
        var entries: [Entry] = []
        while true {
            errno = 0
            guard let item = readdir(dir) else {
                if errno != 0 { throw FileSystemError("readdir", path) }
                return entries
            }
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw -> [UInt8] in
                let bytes = raw.bindMemory(to: UInt8.self)
                return Array(bytes[0..<(bytes.firstIndex(of: 0) ?? bytes.count)])
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            entries.append(Entry(name: name, type: item.pointee.d_type))
        }
    }

    /// fsync of a directory, so that a rename or a new entry in it survives a crash.
    public static func sync(_ path: String) throws(FileSystemError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileSystemError("fsync", path) }
    }
}
