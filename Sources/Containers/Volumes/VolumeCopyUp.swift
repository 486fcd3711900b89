import FileSystem
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Docker's copy-up: a new, empty volume mounted where the image has a directory starts with a
/// copy of what the image has there (files, directories, symbolic links, device nodes and fifos,
/// with their owners, modes and times; the directory's own owner and mode go to the volume's
/// root). Done by berth before the launch, from the image's layer directories read with
/// overlay's rule (`OverlayLookup`): each path is looked at with lstat and a symbolic link is
/// copied as a link, never followed, so nothing outside the layers is read.
///
/// For a container in a user namespace (`--userns=auto`) the copies are owned by the host ids
/// the image's ids map to, so its root owns what the image's root owns (Docker's userns-remap
/// does the same); an id outside the mapping is kept.
struct VolumeCopyUp {
    let lookup: OverlayLookup
    let userNamespace: UserNamespace?

    init(layers: [String], userNamespace: UserNamespace? = nil) {
        lookup = OverlayLookup(layers: layers)
        self.userNamespace = userNamespace
    }

    /// The host id of the container's `id` under `mappings`; `id` itself when unmapped.
    static func hostID(_ id: UInt32, in mappings: [IDMapping]) -> UInt32 {
        guard let m = mappings.first(where: { id >= $0.containerID && id - $0.containerID < $0.size }) else { return id }
        return m.hostID + (id - m.containerID)
    }

    /// Fills the volume `name` of `store` with the image's `path`, when the image has a directory
    /// there and the volume is still empty. The copy is made beside `_data` and renamed over
    /// it (rename replaces an empty directory), under a flock on the volume's directory: two
    /// containers starting on one new volume copy once, and a crash leaves no half-filled volume.
    func fill(_ name: String, in store: VolumeStore, from path: String) throws {
        guard case .visible(_, let st) = lookup.find(path), (st.st_mode & S_IFMT) == S_IFDIR else { return }
        let volumeDirectory = store.directory(of: name)
        let lockFD = open(volumeDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard lockFD >= 0 else { throw ContainerError.system("cannot open the volume \(volumeDirectory)") }
        defer { close(lockFD) }
        while flock(lockFD, LOCK_EX) != 0 {
            guard errno == EINTR else { throw ContainerError.system("cannot lock the volume \(volumeDirectory)") }
        }
        guard store.isEmpty(name) else { return }
        let copy = volumeDirectory + "/.copy-\(getpid())"
        try? TreeRemoval.remove(copy)
        guard mkdir(copy, 0o700) == 0 else { throw ContainerError.system("cannot create \(copy)") }
        var done = false
        defer { if !done { try? TreeRemoval.remove(copy) } }
        do {
            var linked: [FileIdentity: String] = [:]
            try copyDirectory(path, to: copy, depth: 0, linked: &linked)
            try applyMetadata(st, to: copy, isLink: false)
        } catch let error as FileSystemError {
            throw ContainerError(.systemError, "cannot copy the image's \(path) into the volume \(name): \(error)")
        }
        guard rename(copy, store.dataDirectory(of: name)) == 0 else {
            // Written to meanwhile by something that does not take the lock: theirs is kept.
            if errno == ENOTEMPTY || errno == EEXIST { return }
            throw ContainerError.system("cannot put the copy of the image's \(path) into the volume \(name)")
        }
        done = true
    }

    /// The names a directory of the merged view may hold: every layer's, whited-out and hidden
    /// ones included; `lookup.find` says which of them show.
    private func candidateNames(_ path: String) -> [String] {
        var names: Set<String> = []
        for layer in lookup.layers {
            for name in (try? Directory.names(atPath: layer + path)) ?? [] { names.insert(name) }
        }
        return names.sorted()
    }

    /// A file's device and inode: the files of a layer linked to one another (st_nlink > 1) are
    /// linked in the copy too, once the first of them is copied.
    private struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private func copyDirectory(_ path: String, to destination: String, depth: Int,
                               linked: inout [FileIdentity: String]) throws {
        // Far deeper than a real image's tree; a layer can't make the walk recurse for ever.
        guard depth < 1024 else { throw FileSystemError("copy", path, errno: ELOOP) }
        for name in candidateNames(path) {
            let child = path + "/" + name
            guard case .visible(let layer, let st) = lookup.find(child) else { continue }
            let source = lookup.layers[layer] + child
            let target = destination + "/" + name
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                guard mkdir(target, 0o700) == 0 else { throw FileSystemError("mkdir", target) }
                try copyDirectory(child, to: target, depth: depth + 1, linked: &linked)
            case S_IFREG:
                let identity = FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                if st.st_nlink > 1, let first = linked[identity] {
                    guard link(first, target) == 0 else { throw FileSystemError("link", target) }
                    continue
                }
                try copyFile(source, to: target)
                if st.st_nlink > 1 { linked[identity] = target }
            case S_IFLNK:
                guard let to = FileIO.readLink(source) else { throw FileSystemError("readlink", source) }
                guard symlink(to, target) == 0 else { throw FileSystemError("symlink", target) }
            case S_IFCHR, S_IFBLK, S_IFIFO:
                guard mknod(target, st.st_mode, st.st_rdev) == 0 else { throw FileSystemError("mknod", target) }
            default:
                continue   // a socket means nothing without its listener
            }
            try applyMetadata(st, to: target, isLink: (st.st_mode & S_IFMT) == S_IFLNK)
        }
    }

    private func copyFile(_ source: String, to target: String) throws {
        let input = open(source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard input >= 0 else { throw FileSystemError("open", source) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw FileSystemError("open", target) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 128 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError("read", source)
            }
            if n == 0 { return }
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { write(output, $0.baseAddress.map { $0 + written }, n - written) }
                if w < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError("write", target)
                }
                written += w
            }
        }
    }

    /// Owner, then mode (a chown clears set-id bits), then times: a directory's last, after
    /// its entries are made.
    private func applyMetadata(_ st: stat, to target: String, isLink: Bool) throws {
        let uid = userNamespace.map { Self.hostID(st.st_uid, in: $0.uidMappings) } ?? st.st_uid
        let gid = userNamespace.map { Self.hostID(st.st_gid, in: $0.gidMappings) } ?? st.st_gid
        guard lchown(target, uid, gid) == 0 else { throw FileSystemError("lchown", target) }
        if !isLink, chmod(target, st.st_mode & 0o7777) != 0 { throw FileSystemError("chmod", target) }
        let times = [st.st_atim, st.st_mtim]
        guard utimensat(AT_FDCWD, target, times, AT_SYMLINK_NOFOLLOW) == 0 else { throw FileSystemError("utimensat", target) }
    }
}
