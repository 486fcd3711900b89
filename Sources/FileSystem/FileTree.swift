import CFileSystem
#if canImport(Glibc)
import Glibc
#endif

/// rm -rf that cannot be led out of the tree it removes.
///
/// A container owns the files of its upper directory and may still be running something that
/// swaps a directory for a symbolic link to / while we remove it: a walk that joins paths (nftw)
/// would then follow the link and empty the host. This walk works only on directory fds:
/// each directory is opened relative to its parent's fd with O_NOFOLLOW|O_DIRECTORY and its
/// entries are unlinked with unlinkat on that fd, so a link is only ever removed, never entered.
///
/// - Deep trees: at most `openLimit` directory fds are open at once; a directory whose fd was
///   closed is found again through `..` of its child and checked by device and inode, so a tree
///   moved meanwhile stops the walk instead of sending it elsewhere.
/// - Permissions: a directory we own but may not read, search or write (0o000, 0o555) gets u+rwx
///   through its own fd, never through a path.
/// - Mounts: a directory on another mount (another st_dev, or another mount id: a bind mount
///   of the same filesystem) is not entered; it is left in place and reported as EBUSY, the error
///   rmdir of a mount point gives. So is the top itself when it is a mount point.
///
/// Everything that can be removed is; the first failure is thrown at the end.
public enum FileTree {
    /// The most directory fds one removal holds: far below any fd limit, and deep enough that
    /// ordinary trees never pay for a reopen.
    static let openLimit = 32

    /// Removes the file or tree at `path`; a path that does not exist is already removed.
    public static func remove(_ path: String) throws(FileSystemError) {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        let (directory, name) = AtomicFile.split(String(trimmed))
        guard !name.isEmpty, name != ".", name != ".." else { throw FileSystemError("remove", path, errno: EINVAL) }
        let parent = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else {
            if errno == ENOENT { return }
            throw FileSystemError("open", directory)
        }
        defer { close(parent) }
        try remove(Array(name.utf8), in: parent, path: String(trimmed))
    }

    /// Removes `name` inside the directory open as `parent`, a file or a whole tree; `path` names
    /// it in errors only. A name that does not exist is not an error.
    public static func remove(_ name: [UInt8], in parent: Int32, path: String) throws(FileSystemError) {
        if withCName(name, { unlinkat(parent, $0, 0) }) == 0 { return }
        switch errno {
        case ENOENT: return
        case EISDIR: break
        default: throw FileSystemError("unlinkat", path)
        }
        var parentIdentity = berth_identity()
        guard berth_identify(parent, &parentIdentity) == 0 else { throw FileSystemError("statx", path) }
        let fd = openDirectory(parent, name)
        guard fd >= 0 else {
            if errno == ENOENT { return }
            // Swapped for a file since the unlink: that is only a file to remove.
            if errno == ENOTDIR || errno == ELOOP, withCName(name, { unlinkat(parent, $0, 0) }) == 0 || errno == ENOENT { return }
            throw FileSystemError("openat", path)
        }
        var walk = Walk(top: parent, path: path, device: parentIdentity.device, mount: parentIdentity.mount)
        walk.enter(fd, name: name)
        try walk.run()
    }

    /// Opens `name` in `dir` as a directory, never through a link (ELOOP or ENOTDIR instead).
    /// A directory we may not read is opened through an O_PATH fd, which needs no permission on
    /// it, after giving its owner rwx through that fd: the chmod cannot be redirected.
    static func openDirectory(_ dir: Int32, _ name: [UInt8]) -> Int32 {
        let fd = withCName(name) { openat(dir, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        if fd >= 0 || errno != EACCES { return fd }
        let handle = withCName(name) { openat(dir, $0, berth_o_path | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard handle >= 0 else { return -1 }
        defer { close(handle) }
        var identity = berth_identity()
        guard berth_identify(handle, &identity) == 0,
              chmod("/proc/self/fd/\(handle)", mode_t(identity.mode & 0o7777) | S_IRWXU) == 0 else {
            errno = EACCES
            return -1
        }
        return openat(handle, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }

    static func withCName<R>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        let cName = name.map { CChar(bitPattern: $0) } + [0]
        return body(cName)
    }

    /// One directory being emptied.
    private struct Level {
        /// -1 while deeper levels hold the open fds; reopened through `..` on the way back up.
        var fd: Int32
        let device: UInt64
        let inode: UInt64
        let mode: UInt32
        /// Its name in the level above, for the final unlinkat.
        let name: [UInt8]
        var entries: [Directory.Entry]
        var next = 0
        /// Whether u+rwx was already given to it (once is enough; a second refusal is real).
        var madeAccessible = false
    }

    /// The walk: an explicit stack of levels, so a tree thousands deep costs memory, not the
    /// thread's stack.
    private struct Walk {
        /// The fd of the directory that holds the top (the caller's, never closed here).
        let top: Int32
        /// The top's path, for messages only.
        let path: String
        let device: UInt64
        let mount: UInt64
        var levels: [Level] = []
        var firstError: FileSystemError?

        init(top: Int32, path: String, device: UInt64, mount: UInt64) {
            self.top = top
            self.path = path
            self.device = device
            self.mount = mount
        }

        mutating func note(_ error: FileSystemError) {
            if firstError == nil { firstError = error }
        }

        /// The path of `name` inside the first `depth` levels (the top itself with no name),
        /// built only for a message: the walk never uses paths.
        func display(depth: Int, _ name: [UInt8]? = nil) -> String {
            var text = path
            for level in levels.prefix(depth).dropFirst() { text += "/" + String(decoding: level.name, as: UTF8.self) }
            if let name { text += "/" + String(decoding: name, as: UTF8.self) }
            return text
        }

        mutating func run() throws(FileSystemError) {
            while let index = levels.indices.last {
                if levels[index].next < levels[index].entries.count {
                    let entry = levels[index].entries[levels[index].next]
                    levels[index].next += 1
                    removeEntry(entry, of: index)
                } else {
                    do {
                        try leave()
                    } catch {
                        for level in levels where level.fd >= 0 { close(level.fd) }
                        levels.removeAll()
                        throw error
                    }
                }
            }
            if let firstError { throw firstError }
        }

        /// Pushes the directory open as `fd` (which this walk now owns) unless it is on another
        /// mount, in which case it is closed and left in place.
        mutating func enter(_ fd: Int32, name: [UInt8]) {
            let depth = levels.count
            func path() -> String { display(depth: depth, depth == 0 ? nil : name) }
            var identity = berth_identity()
            guard berth_identify(fd, &identity) == 0 else {
                note(FileSystemError("statx", path()))
                close(fd)
                return
            }
            guard identity.device == device, mount == 0 || identity.mount == mount else {
                close(fd)
                note(FileSystemError("unlinkat", path(), errno: EBUSY))
                return
            }
            let entries: [Directory.Entry]
            do {
                entries = try Directory.entries(fd, path: "")
            } catch {
                note(FileSystemError(error.call, path(), errno: error.errno))
                close(fd)
                return
            }
            levels.append(Level(fd: fd, device: identity.device, inode: identity.inode, mode: identity.mode,
                                name: name, entries: entries))
            if levels.count > FileTree.openLimit {
                let oldest = levels.count - FileTree.openLimit - 1
                close(levels[oldest].fd)
                levels[oldest].fd = -1
            }
        }

        /// Removes one entry of the deepest level: unlinks a file, enters a directory. The
        /// d_type only decides what to try first; the kernel's answer (EISDIR, ENOTDIR, ELOOP)
        /// decides, so an entry swapped meanwhile is still handled as what it is now.
        mutating func removeEntry(_ entry: Directory.Entry, of index: Int) {
            var asDirectory = entry.type == UInt8(DT_DIR) || entry.type == UInt8(DT_UNKNOWN)
            var call = "unlinkat"
            for _ in 0..<4 {
                let fd = levels[index].fd
                if asDirectory {
                    call = "openat"
                    let child = FileTree.openDirectory(fd, entry.name)
                    if child >= 0 {
                        enter(child, name: entry.name)
                        return
                    }
                    if errno == ENOENT { return }
                    if errno == ENOTDIR || errno == ELOOP {
                        asDirectory = false
                        continue
                    }
                } else {
                    call = "unlinkat"
                    if FileTree.withCName(entry.name, { unlinkat(fd, $0, 0) }) == 0 || errno == ENOENT { return }
                    if errno == EISDIR {
                        asDirectory = true
                        continue
                    }
                }
                // Refused: this directory may lack search or write permission for us.
                guard errno == EACCES || errno == EPERM, makeAccessible(index) else { break }
            }
            let err = errno
            note(FileSystemError(call, display(depth: index + 1, entry.name), errno: err))
        }

        /// Gives the level's directory u+rwx, once.
        mutating func makeAccessible(_ index: Int) -> Bool {
            guard !levels[index].madeAccessible, levels[index].fd >= 0 else { return false }
            levels[index].madeAccessible = true
            return fchmod(levels[index].fd, mode_t(levels[index].mode & 0o7777) | S_IRWXU) == 0
        }

        /// The deepest level is empty (or holds what could not go): removes it from its parent.
        mutating func leave() throws(FileSystemError) {
            let done = levels.removeLast()
            func path() -> String { levels.isEmpty ? self.path : display(depth: levels.count, done.name) }
            defer { close(done.fd) }
            var parentFD = top
            if let parent = levels.indices.last {
                if levels[parent].fd < 0 {
                    let fd = reopenParent(of: done, expecting: levels[parent])
                    guard fd >= 0 else {
                        let err = errno
                        throw FileSystemError(err == ESTALE ? "find the parent again (the tree was moved during its removal)" : "openat ..",
                                              path(), errno: err)
                    }
                    levels[parent].fd = fd
                }
                parentFD = levels[parent].fd
            }
            for attempt in 0..<2 {
                if FileTree.withCName(done.name, { unlinkat(parentFD, $0, AT_REMOVEDIR) }) == 0 || errno == ENOENT { return }
                let err = errno
                if attempt == 0, err == EACCES || err == EPERM, let parent = levels.indices.last, makeAccessible(parent) { continue }
                // Not empty because something inside could not go: that failure is the one to report.
                if err == ENOTEMPTY || err == EEXIST, firstError != nil { return }
                note(FileSystemError("unlinkat", path(), errno: err))
                return
            }
        }

        /// The parent of `child` found through `..`, and proven to be the directory we left
        /// (same device and inode): if the tree was moved meanwhile, the walk stops rather than
        /// remove in whatever directory `..` now is. -1 with errno (ESTALE for a moved tree).
        func reopenParent(of child: Level, expecting parent: Level) -> Int32 {
            let fd = openat(child.fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { return -1 }
            var identity = berth_identity()
            guard berth_identify(fd, &identity) == 0, identity.device == parent.device, identity.inode == parent.inode else {
                close(fd)
                errno = ESTALE
                return -1
            }
            return fd
        }
    }
}
