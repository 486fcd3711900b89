#if canImport(Glibc)
import Glibc
#endif

/// Opens directories inside a layer root one component at a time, never following a symbolic
/// link, and keeps the last path open so that the next entry of a tar (usually a sibling) costs no
/// system call.
///
/// This is the unpacker's guarantee that nothing is written outside the root. The kernel's
/// `openat2(RESOLVE_IN_ROOT)` would do the same in one call, but resolving *inside* the root means
/// following in-layer links, which a layer never needs for its own entries (tar writers list real
/// paths) and which is the first thing an attack tries; refusing any link in a parent position is
/// simpler to reason about. Every parent is opened with O_NOFOLLOW|O_DIRECTORY relative to the fd of
/// the one above it, so a component swapped for a link between two entries is refused too.
final class RootedDirectoryCursor {
    let rootFD: Int32
    /// The directories open below the root along the last path asked for, outermost first.
    private var open: [(name: [UInt8], fd: Int32)] = []
    /// The xattr that marks a directory opaque ("trusted.overlay.opaque"), for a parent that
    /// replaces a whiteout.
    private let opaqueXattr: String

    init(rootFD: Int32, opaqueXattr: String) {
        self.rootFD = rootFD
        self.opaqueXattr = opaqueXattr
    }

    deinit { reset() }

    /// Closes everything but the root: call after removing a directory this cursor may hold open,
    /// since a cached fd would then name a directory that is no longer in the tree.
    func reset() {
        for d in open { close(d.fd) }
        open.removeAll()
    }

    /// The fd of the directory `components` below the root (the root for none). It stays valid until
    /// the next call or `reset()`; the caller must not close it.
    ///
    /// With `create`, missing directories are made (tar writers may omit parent entries). A
    /// component that is a link, or not a directory, is refused with an error naming `entry`.
    func directory(_ components: [[UInt8]], create: Bool, entry: String) throws(LayerError) -> Int32 {
        var shared = 0
        while shared < open.count, shared < components.count, open[shared].name == components[shared] { shared += 1 }
        while open.count > shared {
            if let last = open.popLast() { close(last.fd) }
        }
        for i in shared..<components.count {
            let parent = open.last?.fd ?? rootFD
            let fd = try openChild(parent, components[i], create: create, entry: entry, shown: components[0...i])
            open.append((components[i], fd))
        }
        return open.last?.fd ?? rootFD
    }

    private func openChild(_ parent: Int32, _ name: [UInt8], create: Bool, entry: String,
                           shown: ArraySlice<[UInt8]>) throws(LayerError) -> Int32 {
        let fd = LayerFS.withCName(name) { openat(parent, $0, LayerFS.directoryFlags) }
        if fd >= 0 { return fd }
        let err = errno
        let where_ = String(decoding: LayerPath.join(Array(shown)), as: UTF8.self)
        if err == ENOENT, create {
            guard LayerFS.withCName(name, { mkdirat(parent, $0, 0o755) }) == 0 else {
                throw LayerError.system("create parent directory \"\(where_)\"", entry: entry)
            }
            // Implicit parents (the tar omitted their entries) get root's default 0755, as Docker
            // makes them.
            return try reopen(parent, name, entry: entry, shown: where_)
        }
        guard err == ELOOP || err == ENOTDIR, let st = LayerFS.lstatAt(parent, name) else {
            throw LayerError.system("open directory \"\(where_)\"", entry: entry, errno: err)
        }
        let type = LayerFS.fileType(st.st_mode)
        if type == S_IFLNK {
            throw LayerError(.unsafePath, entry: entry,
                             "path goes through the symbolic link \"\(where_)\"; a layer entry may not be written through a link")
        }
        // A whiteout (char 0/0) of this same layer in a parent position: the tar deletes the lower
        // directory and then puts something below the same name. The result is a new directory
        // hiding the lower one: an opaque directory.
        if create, type == S_IFCHR, st.st_rdev == 0 {
            guard LayerFS.withCName(name, { unlinkat(parent, $0, 0) }) == 0,
                  LayerFS.withCName(name, { mkdirat(parent, $0, 0o755) }) == 0 else {
                throw LayerError.system("replace whiteout \"\(where_)\" with a directory", entry: entry)
            }
            guard XattrTarget.path(LayerFS.procPath(dir: parent, name: name)).set(opaqueXattr, Array("y".utf8)) else {
                throw LayerError.system("mark directory \"\(where_)\" opaque", entry: entry)
            }
            return try reopen(parent, name, entry: entry, shown: where_)
        }
        throw LayerError(.badArchive, entry: entry, "\"\(where_)\" is not a directory")
    }

    private func reopen(_ parent: Int32, _ name: [UInt8], entry: String, shown: String) throws(LayerError) -> Int32 {
        let fd = LayerFS.withCName(name) { openat(parent, $0, LayerFS.directoryFlags) }
        guard fd >= 0 else { throw LayerError.system("open directory \"\(shown)\"", entry: entry) }
        return fd
    }
}
