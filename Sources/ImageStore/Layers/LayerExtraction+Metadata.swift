#if canImport(Glibc)
import Glibc
#endif

/// Ownership, mode, xattrs and times of an entry that was just created.
extension LayerExtraction {
    func setOwner(fd: Int32, _ header: TarEntryHeader, entry: String) throws(LayerError) {
        guard options.preserveOwnership else { return }
        let (uid, gid) = try owner(header, entry: entry)
        guard fchown(fd, uid, gid) == 0 else { throw LayerError.system("chown \(uid):\(gid)", entry: entry) }
    }

    func setOwnerByName(_ parent: Int32, _ path: LayerPath, _ header: TarEntryHeader) throws(LayerError) {
        guard options.preserveOwnership else { return }
        let (uid, gid) = try owner(header, entry: path.display)
        let rc = LayerFS.withCName(path.name) { fchownat(parent, $0, uid, gid, AT_SYMLINK_NOFOLLOW) }
        guard rc == 0 else { throw LayerError.system("chown \(uid):\(gid)", entry: path.display) }
    }

    /// For entries that cannot be opened without side effects (links, devices, fifos): everything
    /// by name relative to the parent fd, never following the name.
    func setMetadataByName(_ parent: Int32, _ path: LayerPath, _ header: TarEntryHeader, chmod: Bool) throws(LayerError) {
        try setOwnerByName(parent, path, header)
        if chmod {
            // glibc implements AT_SYMLINK_NOFOLLOW through an O_PATH fd, so the name cannot be
            // swapped for a link between the check and the chmod.
            let rc = LayerFS.withCName(path.name) { fchmodat(parent, $0, header.permissions, AT_SYMLINK_NOFOLLOW) }
            guard rc == 0 else { throw LayerError.system("chmod", entry: path.display) }
        }
        try setXattrs(.path(LayerFS.procPath(dir: parent, name: path.name)), header, entry: path.display)
        var times = [header.atime, header.mtime]
        let rc = LayerFS.withCName(path.name) { utimensat(parent, $0, &times, AT_SYMLINK_NOFOLLOW) }
        guard rc == 0 else { throw LayerError.system("set times", entry: path.display) }
    }

    /// The tar's xattrs, minus overlay's private ones (see LayerXattrPolicy). security.capability
    /// is set here like any other, after chown (which would clear it).
    func setXattrs(_ target: XattrTarget, _ header: TarEntryHeader, entry: String) throws(LayerError) {
        for (name, value) in header.xattrs where !LayerXattrPolicy.isOverlayPrivate(name) {
            if target.set(name, value) { continue }
            let err = errno
            if err == EOPNOTSUPP || err == ENOTSUP || LayerXattrPolicy.isHostLabel(name) {
                skippedXattrs.append("\(entry): \(name)")
                continue
            }
            throw LayerError.system("set xattr \(name)", entry: entry, errno: err)
        }
    }

    private func owner(_ header: TarEntryHeader, entry: String) throws(LayerError) -> (uid_t, gid_t) {
        // uid_t(-1) means "leave unchanged" to chown; a tar claiming it is broken, not a request.
        guard header.uid >= 0, header.uid < Int64(UInt32.max), header.gid >= 0, header.gid < Int64(UInt32.max) else {
            throw LayerError(.badArchive, entry: entry, "invalid owner \(header.uid):\(header.gid)")
        }
        return (uid_t(header.uid), gid_t(header.gid))
    }
}
