import Synchronization
#if canImport(Glibc)
import Glibc
#endif

private let temporaryCount = Atomic<UInt64>(0)

/// Replacing a file so that a reader sees the old content or the new, never half of either:
/// the new content goes into a new temporary file beside it, which is renamed over it.
public enum AtomicFile {
    /// How much of the replacement must survive a power cut once `replace` returns.
    public enum Durability: Sendable {
        /// Nothing: state that dies with the machine anyway (runtime records of running
        /// containers, whose cgroups go with a reboot).
        case none
        /// The file's content is fsync'd before the rename, so the name never leads to an empty
        /// or partial file; the rename itself may be lost (a cache that is rebuilt on a miss).
        case contents
        /// The content, then the rename: the directory is fsync'd too (DESIGN.md's "temp file,
        /// fsync, rename, directory sync").
        case full
    }

    /// Replaces `path` with `bytes`; `durable` picks `.full` or `.none`.
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t = 0o644,
                               durable: Bool) throws(FileSystemError) {
        try replace(path, with: bytes, mode: mode, durability: durable ? .full : .none)
    }

    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t = 0o644,
                               durability: Durability) throws(FileSystemError) {
        do {
            try replace(path, mode: mode, durability: durability) { fd, temp throws(FileSystemError) in
                try FileIO.writeAll(fd, bytes, path: temp)
            }
        } catch let error as FileSystemError {
            throw error
        } catch {
            // The body above throws nothing else.
            throw FileSystemError("write", path, errno: EIO)
        }
    }

    /// Replaces `path` with what `body` writes to the temporary file's fd (its path given for
    /// messages). An error from `body` is rethrown as it is, after the temporary file is gone.
    ///
    /// The temporary file is made with O_EXCL and O_NOFOLLOW under a name no one else picks
    /// (pid and a random number), so a link planted at a guessable name in a shared directory
    /// is never written through, and two writers never share one.
    public static func replace(_ path: String, mode: mode_t = 0o644, durability: Durability,
                               writing body: (_ fd: Int32, _ temporaryPath: String) throws -> Void) throws {
        let (directory, name) = split(path)
        let leading = String(decoding: path.utf8.dropLast(name.utf8.count), as: UTF8.self)
        // With a directory fd the rename and the directory sync are sure to be about the same
        // directory; without a sync there is no use for one, and no open and close to pay.
        var dirFD = AT_FDCWD
        var prefix = leading
        if durability == .full {
            dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard dirFD >= 0 else { throw FileSystemError("open", directory) }
            prefix = ""
        }
        defer { if dirFD != AT_FDCWD { close(dirFD) } }

        // The pid and a per-process count keep writers apart without a syscall for randomness;
        // a name a crashed process of the same pid left behind is skipped, never reused.
        var tempName = ""
        var fd: Int32 = -1
        for _ in 0..<64 {
            tempName = name + ".tmp-\(getpid())-\(temporaryCount.add(1, ordering: .relaxed).newValue)"
            fd = openat(dirFD, prefix + tempName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd >= 0 || errno != EEXIST { break }
        }
        let temp = leading + tempName
        guard fd >= 0 else { throw FileSystemError("open", temp) }
        var renamed = false
        defer { if !renamed { unlinkat(dirFD, prefix + tempName, 0) } }
        do {
            defer { close(fd) }
            try body(fd, temp)
            if durability != .none {
                guard fsync(fd) == 0 else { throw FileSystemError("fsync", temp) }
            }
        }
        guard renameat(dirFD, prefix + tempName, dirFD, prefix + name) == 0 else {
            throw FileSystemError("rename", path)
        }
        renamed = true
        if durability == .full {
            guard fsync(dirFD) == 0 else { throw FileSystemError("fsync", directory) }
        }
    }

    /// Replaces `path` with `bytes` written into `spare`, a file of the same directory that no
    /// reader looks at, in place, then renamed over `path` (no durability): the spare's blocks
    /// are written again rather than new ones taken and old ones freed, which on a file system
    /// mounted with `discard` costs a synchronous discard per freed block. Without a spare it is
    /// `replace(_:with:mode:durability:)`.
    public static func replace(_ path: String, with bytes: [UInt8], reusing spare: String,
                               mode: mode_t = 0o644) throws(FileSystemError) {
        let fd = open(spare, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return try replace(path, with: bytes, mode: mode, durability: .none) }
        do {
            defer { close(fd) }
            try FileIO.writeAll(fd, bytes, at: 0, path: spare)
            guard ftruncate(fd, off_t(bytes.count)) == 0 else { throw FileSystemError("ftruncate", spare) }
            guard fchmod(fd, mode) == 0 else { throw FileSystemError("chmod", spare) }
        }
        guard rename(spare, path) == 0 else { throw FileSystemError("rename", spare) }
    }

    /// `replace(_:with:reusing:mode:)` when a spare is given, which makes the replacement not
    /// durable; `replace(_:with:mode:durability:)` otherwise.
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t, durability: Durability,
                               reusing spare: String?) throws(FileSystemError) {
        if let spare {
            try replace(path, with: bytes, reusing: spare, mode: mode)
        } else {
            try replace(path, with: bytes, mode: mode, durability: durability)
        }
    }

    /// The directory and the last component of `path` ("." for a bare name).
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        return (directory, String(path[path.index(after: slash)...]))
    }
}
