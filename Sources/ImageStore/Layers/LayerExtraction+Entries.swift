import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// One function per kind of tar entry. Each creates its entry relative to the parent's fd, after
/// clearing the name (see LayerExtraction for the rules every one of them keeps).
extension LayerExtraction {
    func directory(_ path: LayerPath, _ header: TarEntryHeader) throws(LayerError) {
        let fd: Int32
        if path.isRoot {
            fd = rootFD
        } else {
            let parent = try cursor.directory(path.parent, create: true, entry: path.display)
            let existing = LayerFS.lstatAt(parent, path.name)
            let isDirectory = existing.map { LayerFS.fileType($0.st_mode) == S_IFDIR } ?? false
            // A directory entry over a directory of this same layer updates it (tars list a
            // directory again after its content to fix its times); over anything else it replaces.
            if !isDirectory {
                if existing != nil { try remove(parent, path) }
                // 0700 while children are created; the real mode is set by finish().
                guard LayerFS.withCName(path.name, { mkdirat(parent, $0, 0o700) }) == 0 else {
                    throw LayerError.system("create directory", entry: path.display)
                }
            }
            fd = LayerFS.withCName(path.name) { openat(parent, $0, LayerFS.directoryFlags) }
            guard fd >= 0 else { throw LayerError.system("open directory", entry: path.display) }
            // Over a whiteout of this layer: the lower directory is deleted and a new one made in
            // its place, which overlay spells as an opaque directory.
            if let existing, isWhiteoutDevice(existing) { try markOpaque(.descriptor(fd), entry: path.display) }
        }
        defer { if fd != rootFD { close(fd) } }
        try setOwner(fd: fd, header, entry: path.display)
        try setXattrs(.descriptor(fd), header, entry: path.display)
        pendingDirectories[path.components] = header
    }

    func regularFile(_ path: LayerPath, _ header: TarEntryHeader) throws(LayerError) {
        let parent = try cursor.directory(path.parent, create: true, entry: path.display)
        try remove(parent, path)
        let fd = LayerFS.withCName(path.name) { openat(parent, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
        guard fd >= 0 else { throw LayerError.system("create file", entry: path.display) }
        defer { close(fd) }
        // libarchive hands out a sparse file's data blocks with their offsets and skips the holes;
        // writing each block at its offset and setting the size at the end leaves the holes as
        // holes, so a 100 MB sparse file stays a few blocks on disk.
        var end: Int64 = 0
        while let (block, offset) = try reader.nextBlock(entry: path.display) {
            do {
                try FileIO.writeAll(fd, block, at: offset, path: path.display)
            } catch {
                throw LayerError.system("write file", entry: path.display, errno: error.errno)
            }
            end = max(end, offset + Int64(block.count))
        }
        if header.size > end {
            guard ftruncate(fd, off_t(header.size)) == 0 else { throw LayerError.system("set file size", entry: path.display) }
        }
        // Order matters: chown clears setuid/setgid and security.capability, so owner first, then
        // mode, then xattrs; times last because the others change ctime only but a later write would not.
        try setOwner(fd: fd, header, entry: path.display)
        guard fchmod(fd, header.permissions) == 0 else { throw LayerError.system("chmod", entry: path.display) }
        try setXattrs(.descriptor(fd), header, entry: path.display)
        var times = [header.atime, header.mtime]
        guard futimens(fd, &times) == 0 else { throw LayerError.system("set times", entry: path.display) }
    }

    func symlink(_ path: LayerPath, _ header: TarEntryHeader) throws(LayerError) {
        guard let target = header.symlinkTarget, !target.isEmpty else {
            throw LayerError(.badArchive, entry: path.display, "symbolic link without a target")
        }
        let parent = try cursor.directory(path.parent, create: true, entry: path.display)
        try remove(parent, path)
        // The target is stored, never resolved: a link may point anywhere (it is resolved inside
        // the container's root at run time), and the unpacker never walks through one.
        let rc = LayerFS.withCName(target) { t in LayerFS.withCName(path.name) { symlinkat(t, parent, $0) } }
        guard rc == 0 else { throw LayerError.system("create symbolic link", entry: path.display) }
        try setMetadataByName(parent, path, header, chmod: false)
    }

    func deviceOrFifo(_ path: LayerPath, _ header: TarEntryHeader) throws(LayerError) {
        let device = LayerFS.makeDevice(major: header.deviceMajor, minor: header.deviceMinor)
        if header.type != S_IFIFO, device != 0, !options.allowDevices {
            throw LayerError.deviceRefused(major: header.deviceMajor, minor: header.deviceMinor, entry: path.display)
        }
        let parent = try cursor.directory(path.parent, create: true, entry: path.display)
        try remove(parent, path)
        let rc = LayerFS.withCName(path.name) { mknodat(parent, $0, header.type | 0o600, device) }
        guard rc == 0 else { throw LayerError.system(header.type == S_IFIFO ? "create fifo" : "create device node", entry: path.display) }
        try setMetadataByName(parent, path, header, chmod: true)
    }

    /// `.wh.<name>`: a character device 0/0 named `<name>`, overlay's whiteout.
    func whiteout(_ path: LayerPath, hiding name: [UInt8], _ header: TarEntryHeader) throws(LayerError) {
        guard !name.isEmpty, name != Array(".".utf8), name != Array("..".utf8), !name.contains(UInt8(ascii: "/")) else {
            throw LayerError(.unsafePath, entry: path.display, "whiteout of an invalid name")
        }
        let parent = try cursor.directory(path.parent, create: true, entry: path.display)
        let target = LayerPath(components: path.parent + [name], display: path.display)
        // OCI: a whiteout hides the *lower* layers only. If this layer already made `name`, it stays:
        // a file or link already hides the lower one; a directory must also hide the lower one's
        // content, so it becomes opaque.
        if let existing = LayerFS.lstatAt(parent, name) {
            if LayerFS.fileType(existing.st_mode) == S_IFDIR {
                try markOpaque(.path(LayerFS.procPath(dir: parent, name: name)), entry: path.display)
            }
            return
        }
        guard LayerFS.withCName(name, { mknodat(parent, $0, S_IFCHR, 0) }) == 0 else {
            throw LayerError.system("create whiteout device", entry: path.display)
        }
        try setOwnerByName(parent, target, header)
        // The times too, so that a whiteout packed again carries the same header.
        var times = [header.atime, header.mtime]
        let rc = LayerFS.withCName(name) { utimensat(parent, $0, &times, AT_SYMLINK_NOFOLLOW) }
        guard rc == 0 else { throw LayerError.system("set times", entry: path.display) }
    }

    func hardlink(_ path: LayerPath, to rawTarget: [UInt8]) throws(LayerError) {
        let target: LayerPath
        do {
            target = try LayerPath.parse(rawTarget)
        } catch {
            throw LayerError(error.code, entry: path.display, "hardlink target \"\(error.entry ?? "")\": \(error.message)")
        }
        guard !target.isRoot else { throw LayerError(.badArchive, entry: path.display, "hardlink to the layer root") }
        guard target.components != path.components else { return }
        let parent = try cursor.directory(path.parent, create: true, entry: path.display)
        var (targetParent, targetStat) = try hardlinkTarget(target, entry: path.display)
        if let existing = LayerFS.lstatAt(parent, path.name) {
            if existing.st_ino == targetStat.st_ino, existing.st_dev == targetStat.st_dev { return }
            try remove(parent, path)
            // Removing a directory closes the hardlink cursor's fds (they might have been in it):
            // look the target up again.
            (targetParent, targetStat) = try hardlinkTarget(target, entry: path.display)
        }
        // Flags 0: a target that is a symbolic link is linked itself, never followed.
        let rc = LayerFS.withCName(target.name) { t in LayerFS.withCName(path.name) { linkat(targetParent, t, parent, $0, 0) } }
        guard rc == 0 else { throw LayerError.system("create hardlink to \"\(target.display)\"", entry: path.display) }
    }

    /// The hardlink target's parent fd (valid until the link cursor moves) and its stat: it must be
    /// in this layer already, and not a directory.
    private func hardlinkTarget(_ target: LayerPath, entry: String) throws(LayerError) -> (Int32, stat) {
        let targetParent: Int32
        do {
            targetParent = try linkCursor.directory(target.parent, create: false, entry: entry)
        } catch where error.code == .systemError && error.errno == ENOENT {
            throw LayerError(.badArchive, entry: entry, "hardlink target \"\(target.display)\" is not in this layer")
        }
        guard let targetStat = LayerFS.lstatAt(targetParent, target.name) else {
            throw LayerError(.badArchive, entry: entry, "hardlink target \"\(target.display)\" is not in this layer")
        }
        guard LayerFS.fileType(targetStat.st_mode) != S_IFDIR else {
            throw LayerError(.badArchive, entry: entry, "hardlink target \"\(target.display)\" is a directory")
        }
        return (targetParent, targetStat)
    }

    func markOpaque(_ target: XattrTarget, entry: String) throws(LayerError) {
        // The user namespace's mark as well: an overlay mounted inside one (with userxattr,
        // `run --userns=auto`) reads only user.overlay.*, and the same layer serves both.
        let prefixes = options.overlayXattrPrefix == "user.overlay." ? ["user.overlay."] : [options.overlayXattrPrefix, "user.overlay."]
        for prefix in prefixes where !target.set(prefix + "opaque", Array("y".utf8)) {
            throw LayerError.system("mark directory opaque (\(prefix)opaque)", entry: entry)
        }
    }

    /// Clears the entry's name in `parent`. Forgets pending metadata of directories that go with it,
    /// and drops the hardlink cursor's open directories, which might be among them.
    func remove(_ parent: Int32, _ path: LayerPath) throws(LayerError) {
        guard let existing = LayerFS.lstatAt(parent, path.name) else { return }
        if LayerFS.fileType(existing.st_mode) == S_IFDIR {
            pendingDirectories = pendingDirectories.filter { !$0.key.starts(with: path.components) }
            linkCursor.reset()
        }
        // Never through a link: a tar that replaces a directory by a file must not make the
        // unpacker delete through a link it planted earlier.
        do {
            try FileTree.remove(path.name, in: parent, path: path.display)
        } catch {
            throw LayerError.system("remove existing \"\(error.path)\" (\(error.call))", entry: path.display, errno: error.errno)
        }
    }

    private func isWhiteoutDevice(_ st: stat) -> Bool {
        LayerFS.fileType(st.st_mode) == S_IFCHR && st.st_rdev == 0
    }
}
