#if canImport(Glibc)
import Glibc
#endif

/// Applies tar entries, one at a time, to a layer directory open as `rootFD`.
///
/// Why not `archive_write_disk`: it works on path strings relative to the process's current
/// directory, so using it on a layer root means either chdir (process-wide, and berth has threads)
/// or joining the root onto every name, at which point its own ARCHIVE_EXTRACT_SECURE_* checks see
/// absolute paths and run lstat-then-open on strings, a check-then-use window. It also knows nothing
/// of whiteouts, and would restore the overlay-private xattrs a hostile layer might carry. So every
/// file is created here with *at() calls relative to a parent directory fd that
/// `RootedDirectoryCursor` opened component by component without following links; libarchive only
/// parses. The checks are, in order:
/// 1. `LayerPath.parse`: no absolute name, no `..`;
/// 2. the cursor: no parent that is a link or not a directory;
/// 3. the final component is never followed: files are created O_CREAT|O_EXCL|O_NOFOLLOW after
///    removing whatever was there, metadata calls use fds or AT_SYMLINK_NOFOLLOW;
/// 4. hardlink targets go through the same parse and a cursor of their own, and linkat does not
///    follow a link at the target.
final class LayerExtraction {
    let rootFD: Int32
    let options: LayerUnpacker.Options
    let reader: LayerTarReader
    /// Parents of entries.
    let cursor: RootedDirectoryCursor
    /// Parents of hardlink targets; separate so that a hardlink does not evict the entry's parents.
    let linkCursor: RootedDirectoryCursor
    /// Directory mode and times, applied after the last entry: creating a child changes a
    /// directory's mtime, and a read-only directory mode would stop a non-root unpack from creating
    /// the children. Keyed by path, so a directory listed twice gets the later header.
    var pendingDirectories: [[[UInt8]]: TarEntryHeader] = [:]
    var skippedXattrs: [String] = []

    init(rootFD: Int32, options: LayerUnpacker.Options, reader: LayerTarReader) {
        self.rootFD = rootFD
        self.options = options
        self.reader = reader
        cursor = RootedDirectoryCursor(rootFD: rootFD, opaqueXattr: options.overlayXattrPrefix + "opaque")
        linkCursor = RootedDirectoryCursor(rootFD: rootFD, opaqueXattr: options.overlayXattrPrefix + "opaque")
    }

    func apply(_ header: TarEntryHeader) throws(LayerError) {
        let path = try LayerPath.parse(header.path)
        // AUFS metadata (`.wh..wh.plnk/…`) and everything in it: Docker skips it too.
        if path.components.contains(where: { Whiteout.meaning(of: $0) == .aufsMetadata }) { return }
        if path.isRoot {
            guard header.type == S_IFDIR, header.hardlinkTarget == nil else {
                throw LayerError(.badArchive, entry: path.display, "the layer root can only be a directory")
            }
            return try directory(path, header)
        }
        // The name decides before the type, as in Docker: `.wh.x` is a whiteout whatever its header says.
        switch Whiteout.meaning(of: path.name) {
        case .opaque:
            let parent = try cursor.directory(path.parent, create: true, entry: path.display)
            try markOpaque(.descriptor(parent), entry: path.display)
            return
        case .whiteout(let name):
            return try whiteout(path, hiding: name, header)
        case .plain, .aufsMetadata:
            break
        }
        if let target = header.hardlinkTarget, !target.isEmpty {
            return try hardlink(path, to: target)
        }
        switch header.type {
        case S_IFDIR: try directory(path, header)
        case S_IFREG: try regularFile(path, header)
        case S_IFLNK: try symlink(path, header)
        case S_IFCHR, S_IFBLK, S_IFIFO: try deviceOrFifo(path, header)
        default:
            throw LayerError(.unsupported, entry: path.display, "unsupported tar entry type 0o\(String(header.type, radix: 8))")
        }
    }

    /// Sets the mode and times of every directory, deepest first (so a parent's read-only mode is
    /// set after its children are done).
    func finish() throws(LayerError) {
        let paths = pendingDirectories.keys.sorted { $0.count > $1.count }
        for components in paths {
            guard let header = pendingDirectories[components] else { continue }
            let display = String(decoding: LayerPath.join(components), as: UTF8.self)
            let fd: Int32
            if components.isEmpty {
                fd = rootFD
            } else {
                let parent = try cursor.directory(Array(components.dropLast()), create: false, entry: display)
                fd = LayerFS.withCName(components[components.count - 1]) { openat(parent, $0, LayerFS.directoryFlags) }
                guard fd >= 0 else { throw LayerError.system("open directory to set its mode", entry: display) }
            }
            defer { if fd != rootFD { close(fd) } }
            guard fchmod(fd, header.permissions) == 0 else { throw LayerError.system("chmod", entry: display) }
            var times = [header.atime, header.mtime]
            guard futimens(fd, &times) == 0 else { throw LayerError.system("set times", entry: display) }
        }
        pendingDirectories.removeAll()
    }
}
