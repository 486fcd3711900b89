import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// Copies files of the build context into a layer directory: regular files byte for byte,
/// directories, links as links (never followed); modification times kept; every entry owned by
/// `owner` (root unless `--chown`) with its own mode unless `--chmod` gives one.
struct TreeCopy {
    var owner: (uid: UInt32, gid: UInt32)
    var mode: mode_t?

    /// Copies `source` (an absolute path) to `destination`; a directory's `entries` (relative
    /// to it, from `ContextSources.walk`) go below `destination`.
    func copy(_ source: String, entries: [String], to destination: String) throws {
        for relative in entries {
            let from = relative.isEmpty ? source : source + "/" + relative
            let to = relative.isEmpty ? destination : destination + "/" + relative
            try copyEntry(from, to)
        }
    }

    func copyEntry(_ from: String, _ to: String) throws {
        var st = stat()
        guard lstat(from, &st) == 0 else { throw BuildError.system("cannot read \(from)") }
        let permissions = mode ?? (st.st_mode & 0o7777)
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            if mkdir(to, permissions) != 0 {
                var existing = stat()
                guard errno == EEXIST, lstat(to, &existing) == 0, (existing.st_mode & S_IFMT) == S_IFDIR else {
                    throw BuildError.system("cannot make the directory \(to)")
                }
            }
        case S_IFLNK:
            guard let target = FileIO.readLink(from) else { throw BuildError.system("cannot read the link \(from)") }
            unlink(to)
            guard symlink(target, to) == 0 else { throw BuildError.system("cannot make the link \(to)") }
        case S_IFREG:
            try copyFile(from, to, mode: permissions)
        default:
            // Sockets, fifos and devices of a context are not files to build with (Docker skips them too).
            return
        }
        guard lchown(to, owner.uid, owner.gid) == 0 else { throw BuildError.system("cannot set the owner of \(to)") }
        if (st.st_mode & S_IFMT) != S_IFLNK, chmod(to, permissions) != 0 {
            throw BuildError.system("cannot set the mode of \(to)")
        }
        var times = [st.st_atim, st.st_mtim]
        _ = utimensat(AT_FDCWD, to, &times, AT_SYMLINK_NOFOLLOW)
    }

    private func copyFile(_ from: String, _ to: String, mode: mode_t) throws {
        let input = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard input >= 0 else { throw BuildError.system("cannot open \(from)") }
        defer { close(input) }
        unlink(to)
        let output = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard output >= 0 else { throw BuildError.system("cannot create \(to)") }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw BuildError.system("cannot read \(from)") }
            if n == 0 { return }
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { write(output, $0.baseAddress.map { $0 + written }, n - written) }
                if w < 0, errno == EINTR { continue }
                guard w > 0 else { throw BuildError.system("cannot write \(to)") }
                written += w
            }
        }
    }
}
