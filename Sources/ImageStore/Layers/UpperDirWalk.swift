import CLibarchive
#if canImport(Glibc)
import Glibc
#endif

/// Walks an upper dir depth first in bytewise name order and writes one tar entry per file,
/// the way Docker's overlay2 driver does (a directory, then its children): overlay whiteouts (char
/// 0/0) become `.wh.<name>`, an opaque directory is followed by `<dir>/.wh..wh..opq`, the second
/// and later names of a multiply linked file become tar hardlinks to the first, sockets are left
/// out (a tar cannot hold them, and they mean nothing once their process is gone).
///
/// Every file is reached by *at() calls relative to its parent's fd with O_NOFOLLOW, so a
/// container still running while its upper dir is packed cannot make the walk read a host file
/// through a link it swaps in.
final class UpperDirWalk {
    private let writer: LayerTarWriter
    /// Where overlay keeps its marks in the layer being read (a merged walk sets it per layer).
    var prefix: String
    /// The first path seen of each (device, inode) with more than one link.
    private var firstLinks: [HardlinkKey: [UInt8]] = [:]
    private let chunk = 1 << 20
    private let buffer: UnsafeMutableRawPointer
    private let zeros: UnsafeMutableRawPointer
    private(set) var entries = 0

    private struct HardlinkKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    /// Whether device nodes (other than overlay's whiteouts) are packed or refused.
    private let allowDevices: Bool

    /// A user namespace's upper dir: host owners written as the container's.
    var ownerMap: LayerOwnerMap?

    init(writer: LayerTarWriter, overlayXattrPrefix: String, allowDevices: Bool = true, ownerMap: LayerOwnerMap? = nil) {
        self.writer = writer
        self.ownerMap = ownerMap
        self.prefix = overlayXattrPrefix
        self.allowDevices = allowDevices
        buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        zeros = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        zeros.initializeMemory(as: UInt8.self, repeating: 0, count: chunk)
    }

    deinit {
        buffer.deallocate()
        zeros.deallocate()
    }

    /// The root itself is not an entry (Docker's layers have no "./"; the root's attributes come
    /// from the image's base), but an opaque root is: it hides everything below.
    func run(rootFD: Int32) throws(LayerError) {
        var st = stat()
        guard fstat(rootFD, &st) == 0 else { throw LayerError.system("stat upper directory", entry: nil) }
        let xattrs = try readXattrs(.descriptor(rootFD), entry: "/")
        if xattrs.opaque { try writeMarker(Whiteout.opaqueMarker, like: st) }
        try walk(rootFD, [])
    }

    private func walk(_ dir: Int32, _ parent: [[UInt8]]) throws(LayerError) {
        let display = parent.isEmpty ? "/" : String(decoding: LayerPath.join(parent), as: UTF8.self)
        for name in try DirectoryListing.names(dir, entry: display) {
            let path = parent + [name]
            try Whiteout.refuseReservedName(name, entry: show(path))
            try entry(dir, path)
        }
    }

    /// Packs one entry as it is now. A container still running can replace a file between the
    /// stat and the open (with a FIFO, whose open would wait for a writer forever, holding the
    /// store's lock): the open never blocks, and an entry found changed is looked at again.
    func entry(_ dir: Int32, _ path: [[UInt8]]) throws(LayerError) {
        for _ in 0..<5 {
            guard let st = LayerFS.lstatAt(dir, path[path.count - 1]) else {
                // Gone since the listing (a container still running): nothing to pack.
                if errno == ENOENT { return }
                throw LayerError.system("stat", entry: show(path))
            }
            do throws(LayerError) {
                switch LayerFS.fileType(st.st_mode) {
                case S_IFDIR: try directory(dir, path, st)
                case S_IFREG: if !(try regularFile(dir, path, st)) { continue }
                case S_IFLNK: try symlink(dir, path, st)
                case S_IFCHR where st.st_rdev == 0: try whiteout(path, st)
                case S_IFCHR where !allowDevices, S_IFBLK where !allowDevices:
                    throw LayerError.deviceRefused(major: LayerFS.major(st.st_rdev), minor: LayerFS.minor(st.st_rdev),
                                                   entry: show(path))
                case S_IFCHR, S_IFBLK, S_IFIFO: try special(dir, path, st)
                default: break
                }
            } catch let error where error.errno == ENOENT && error.entry == show(path) {
                // Removed or renamed between the stat and reading it (its xattrs, its target, its
                // directory), before anything of it was written: look again.
                continue
            }
            return
        }
        throw LayerError(.systemError, entry: show(path),
                         "kept being replaced while it was packed: stop the container, or commit again", errno: EAGAIN)
    }

    private func directory(_ parent: Int32, _ path: [[UInt8]], _ st: stat) throws(LayerError) {
        let display = show(path)
        let fd = LayerFS.withCName(path[path.count - 1]) { openat(parent, $0, LayerFS.directoryFlags) }
        guard fd >= 0 else { throw LayerError.system("open directory", entry: display) }
        defer { close(fd) }
        let xattrs = try readXattrs(.descriptor(fd), entry: display)
        try write(path, st, xattrs: xattrs.kept)
        if xattrs.opaque { try writeMarker(LayerPath.join(path + [Whiteout.opaqueMarker]), like: st) }
        try walk(fd, path)
    }

    /// False when the entry is no longer the file `st` describes (replaced since the stat).
    private func regularFile(_ parent: Int32, _ path: [[UInt8]], _ st: stat) throws(LayerError) -> Bool {
        let display = show(path)
        // O_NOATIME: packing should not make every file look read; only the owner or root may ask.
        // O_NONBLOCK: should the name be a FIFO by now, the open returns instead of waiting for a
        // writer (reads of a regular file do not heed it).
        let name = path[path.count - 1]
        let flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK
        var fd = LayerFS.withCName(name) { openat(parent, $0, flags | LayerFS.oNoAtime) }
        if fd < 0, errno == EPERM { fd = LayerFS.withCName(name) { openat(parent, $0, flags) } }
        guard fd >= 0 else {
            // Replaced by a symbolic link (O_NOFOLLOW) or removed since the stat: look again.
            if errno == ELOOP || errno == ENOENT { return false }
            throw LayerError.system("open file", entry: display)
        }
        defer { close(fd) }
        var opened = stat()
        guard fstat(fd, &opened) == 0 else { throw LayerError.system("stat file", entry: display) }
        guard LayerFS.fileType(opened.st_mode) == S_IFREG, opened.st_ino == st.st_ino, opened.st_dev == st.st_dev else {
            return false
        }
        if try linkToFirst(path, st) { return true }
        let xattrs = try readXattrs(.descriptor(fd), entry: display)
        let size = Int64(st.st_size)
        let segments = SparseMap.dataSegments(fd: fd, size: size)
        try write(path, st, xattrs: xattrs.kept, size: size, sparse: segments)
        try copyData(fd, size: size, segments: segments ?? [(0, size)], entry: display)
        return true
    }

    private func symlink(_ parent: Int32, _ path: [[UInt8]], _ st: stat) throws(LayerError) {
        if try linkToFirst(path, st) { return }
        let display = show(path)
        let name = path[path.count - 1]
        // st_size is the target's length; one byte more tells a target that grew since the stat.
        var target = [CChar](repeating: 0, count: Int(st.st_size) + 1)
        let n = LayerFS.withCName(name) { c in
            target.withUnsafeMutableBufferPointer { out -> Int in
                guard let base = out.baseAddress else { return -1 }
                return readlinkat(parent, c, base, out.count)
            }
        }
        guard n >= 0 else { throw LayerError.system("read symbolic link", entry: display) }
        let xattrs = try readXattrs(.path(LayerFS.procPath(dir: parent, name: name)), entry: display)
        try write(path, st, xattrs: xattrs.kept, symlink: target[0..<min(n, target.count)].map { UInt8(bitPattern: $0) })
    }

    private func special(_ parent: Int32, _ path: [[UInt8]], _ st: stat) throws(LayerError) {
        if try linkToFirst(path, st) { return }
        let xattrs = try readXattrs(.path(LayerFS.procPath(dir: parent, name: path[path.count - 1])), entry: show(path))
        try write(path, st, xattrs: xattrs.kept)
    }

    /// A char 0/0 device is overlay's "deleted": OCI spells it as an empty `.wh.<name>`. Mode 0600
    /// as Docker writes it; owner and mtime are the device's.
    private func whiteout(_ path: [[UInt8]], _ st: stat) throws(LayerError) {
        let name = Whiteout.tarName(hiding: path[path.count - 1])
        try writeMarker(LayerPath.join(path.dropLast() + [name]), like: st, permissions: 0o600)
    }

    // MARK: entries

    /// Overlay links every whiteout to one shared inode in its work dir (Linux ≥ 5.8), so
    /// whiteouts are handled before this check; any other name of an inode already written becomes
    /// a hardlink entry, within this layer only (tar hardlinks name a path in the same tar).
    private func linkToFirst(_ path: [[UInt8]], _ st: stat) throws(LayerError) -> Bool {
        guard st.st_nlink > 1 else { return false }
        let key = HardlinkKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        guard let first = firstLinks[key] else {
            firstLinks[key] = LayerPath.join(path)
            return false
        }
        try write(path, st, xattrs: [], hardlink: first)
        return true
    }

    /// `.wh.<name>` or `.wh..wh..opq`: an empty regular file with the owner and mtime of what it stands for.
    private func writeMarker(_ tarName: [UInt8], like st: stat, permissions: mode_t? = nil) throws(LayerError) {
        var marker = st
        marker.st_mode = S_IFREG | (permissions ?? (st.st_mode & 0o777))
        try write(tarName, marker, xattrs: [])
    }

    func write(_ path: [[UInt8]], _ st: stat, xattrs: [(String, [UInt8])], size: Int64 = 0,
                       sparse: [(offset: Int64, length: Int64)]? = nil, symlink: [UInt8]? = nil,
                       hardlink: [UInt8]? = nil) throws(LayerError) {
        try write(LayerPath.join(path), st, xattrs: xattrs, size: size, sparse: sparse, symlink: symlink, hardlink: hardlink)
    }

    private func write(_ tarName: [UInt8], _ st: stat, xattrs: [(String, [UInt8])], size: Int64 = 0,
                       sparse: [(offset: Int64, length: Int64)]? = nil, symlink: [UInt8]? = nil,
                       hardlink: [UInt8]? = nil) throws(LayerError) {
        guard let entry = archive_entry_new() else {
            throw LayerError(.systemError, entry: show(tarName), "cannot allocate a libarchive entry", errno: ENOMEM)
        }
        defer { archive_entry_free(entry) }
        setName(tarName, entry, archive_entry_copy_pathname)
        archive_entry_set_filetype(entry, UInt32(LayerFS.fileType(st.st_mode)))
        archive_entry_set_perm(entry, st.st_mode & 0o7777)
        archive_entry_set_uid(entry, la_int64_t(ownerMap?.uid(ofHost: st.st_uid) ?? st.st_uid))
        archive_entry_set_gid(entry, la_int64_t(ownerMap?.gid(ofHost: st.st_gid) ?? st.st_gid))
        // Whole seconds: the pax writer would add nanoseconds only to entries that need an extended
        // header anyway, so keeping them would make the bytes depend on unrelated attributes.
        archive_entry_set_mtime(entry, st.st_mtim.tv_sec, 0)
        let type = LayerFS.fileType(st.st_mode)
        if type == S_IFCHR || type == S_IFBLK {
            archive_entry_set_rdevmajor(entry, dev_t(LayerFS.major(st.st_rdev)))
            archive_entry_set_rdevminor(entry, dev_t(LayerFS.minor(st.st_rdev)))
        }
        if let symlink { setName(symlink, entry, archive_entry_copy_symlink) }
        if let hardlink {
            setName(hardlink, entry, archive_entry_copy_hardlink)
            archive_entry_set_size(entry, 0)
        } else {
            archive_entry_set_size(entry, la_int64_t(size))
        }
        for (name, value) in xattrs {
            value.withUnsafeBytes { archive_entry_xattr_add_entry(entry, name, $0.baseAddress, $0.count) }
        }
        for segment in sparse ?? [] { archive_entry_sparse_add_entry(entry, segment.offset, segment.length) }
        try writer.writeHeader(entry, display: show(tarName))
        entries += 1
    }

    /// Names go in as raw bytes. libarchive would convert them from the locale's charset to UTF-8
    /// for the pax header, but berth never calls setlocale, and in the "C" locale that conversion
    /// fails for any non-ASCII name (and libarchive 3.6 crashes on UTF-8-only names). On failure
    /// the pax writer writes the bytes unchanged and marks that header `hdrcharset=BINARY`, which
    /// Go's archive/tar, Python's tarfile and libarchive all read back as the same bytes: for a
    /// UTF-8 name, the same name.
    private func setName(_ name: [UInt8], _ entry: OpaquePointer,
                         _ copy: (OpaquePointer?, UnsafePointer<CChar>?) -> Void) {
        LayerFS.withCName(name) { copy(entry, $0) }
    }

    /// Writes the file's bytes: the data segments read from the file, the holes between them as
    /// zeros, which the pax writer drops for a sparse entry (it wants the whole logical file).
    /// A file that shrank since its stat is padded with zeros, one that grew is cut at the size
    /// the header promised: the tar stays well formed either way.
    private func copyData(_ fd: Int32, size: Int64, segments: [(offset: Int64, length: Int64)], entry: String) throws(LayerError) {
        var position: Int64 = 0
        for segment in segments {
            try writeZeros(segment.offset - position, entry: entry)
            position = segment.offset
            let end = segment.offset + segment.length
            while position < end {
                let want = Int(min(Int64(chunk), end - position))
                let n = pread(fd, buffer, want, off_t(position))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw LayerError.system("read file", entry: entry)
                }
                if n == 0 { break }
                try writer.writeData(UnsafeRawBufferPointer(start: buffer, count: n), display: entry)
                position += Int64(n)
            }
        }
        try writeZeros(size - position, entry: entry)
    }

    private func writeZeros(_ count: Int64, entry: String) throws(LayerError) {
        var left = count
        while left > 0 {
            let n = Int(min(Int64(chunk), left))
            try writer.writeData(UnsafeRawBufferPointer(start: zeros, count: n), display: entry)
            left -= Int64(n)
        }
    }

    // MARK: xattrs

    struct FileXattrs {
        var kept: [(String, [UInt8])] = []
        var opaque = false
    }

    /// The xattrs that belong in the layer, sorted by name (listxattr's order is the filesystem's),
    /// and whether overlay marked the directory opaque. Refuses redirect and metacopy (see LayerPacker).
    func readXattrs(_ target: XattrTarget, entry: String) throws(LayerError) -> FileXattrs {
        guard let names = target.names() else { throw LayerError.system("list xattrs", entry: entry) }
        var result = FileXattrs()
        for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            if name == prefix + "redirect" || name == prefix + "metacopy" {
                throw LayerError(.unsupported, entry: entry,
                                 "the upper dir was written with overlay's redirect_dir or metacopy on (\(name)); "
                                     + "mount with redirect_dir=off,metacopy=off")
            }
            if LayerXattrPolicy.isHostLabel(name) { continue }
            guard let value = target.value(name) else {
                // Removed since the listing.
                if errno == ENODATA { continue }
                throw LayerError.system("read xattr \(name)", entry: entry)
            }
            if name == prefix + "opaque" { result.opaque = value == Array("y".utf8) }
            if LayerXattrPolicy.isOverlayPrivate(name) { continue }
            result.kept.append((name, value))
        }
        return result
    }

    func show(_ path: [[UInt8]]) -> String { show(LayerPath.join(path)) }
    private func show(_ tarName: [UInt8]) -> String { String(decoding: tarName, as: UTF8.self) }
}
