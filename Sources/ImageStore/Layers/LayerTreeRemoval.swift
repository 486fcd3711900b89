#if canImport(Glibc)
import Glibc
#endif

/// Removes a name inside a directory fd, recursively when it is a directory, without following
/// any link: a tar that replaces a directory by a file must not be able to make the unpacker
/// delete through a link it planted earlier.
enum LayerTreeRemoval {
    /// Removes `name` in `parent`; a name that does not exist is not an error.
    static func remove(_ parent: Int32, _ name: [UInt8], entry: String) throws(LayerError) {
        guard let st = LayerFS.lstatAt(parent, name) else {
            if errno == ENOENT { return }
            throw LayerError.system("inspect existing \"\(String(decoding: name, as: UTF8.self))\"", entry: entry)
        }
        if LayerFS.fileType(st.st_mode) == S_IFDIR {
            try removeContents(parent, name, entry: entry)
            guard LayerFS.withCName(name, { unlinkat(parent, $0, AT_REMOVEDIR) }) == 0 else {
                throw LayerError.system("remove existing directory", entry: entry)
            }
        } else {
            guard LayerFS.withCName(name, { unlinkat(parent, $0, 0) }) == 0 else {
                throw LayerError.system("remove existing file", entry: entry)
            }
        }
    }

    private static func removeContents(_ parent: Int32, _ name: [UInt8], entry: String) throws(LayerError) {
        let fd = LayerFS.withCName(name) { openat(parent, $0, LayerFS.directoryFlags) }
        guard fd >= 0 else { throw LayerError.system("open existing directory for removal", entry: entry) }
        defer { close(fd) }
        for child in try DirectoryListing.names(fd, entry: entry) {
            try remove(fd, child, entry: entry)
        }
    }
}
