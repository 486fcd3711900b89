import CLibarchive
#if canImport(Glibc)
import Glibc
#endif

/// Writes an image archive (`berth save`): a plain pax tar of regular files and directories,
/// straight to an fd (a file or stdout). Entries get fixed metadata (mtime 0, root, 0644/0755)
/// so the same images give the same archive.
final class ImageArchiveWriter {
    private let archive: OpaquePointer
    /// What is being written, for messages (a path, or "standard output").
    private let target: String
    private var finished = false

    init(fd: Int32, target: String) throws {
        guard let archive = archive_write_new() else {
            throw ImageStoreError(.systemError, "cannot allocate a libarchive writer", errno: ENOMEM)
        }
        self.archive = archive
        self.target = target
        archive_write_set_format_pax_restricted(archive)
        guard archive_write_open_fd(archive, fd) == ARCHIVE_OK else { throw failure("cannot start the archive") }
    }

    deinit {
        // Freeing an open writer would close it: pad the entry cut short and write the archive's
        // end, so a failed save to a pipe or stdout would look like a complete archive.
        if !finished { archive_write_fail(archive) }
        archive_write_free(archive)
    }

    func addDirectory(_ path: String) throws {
        try header(path, type: S_IFDIR, mode: 0o755, size: 0)
    }

    func addFile(_ path: String, bytes: [UInt8]) throws {
        try header(path, type: S_IFREG, mode: 0o644, size: Int64(bytes.count))
        try bytes.withUnsafeBytes { try write($0, path) }
    }

    /// Copies a blob into the archive, hashing it on the way: a blob damaged in the store must not
    /// leave in an archive as if it were good.
    func addBlob(_ path: String, from file: String, digest: Digest) throws {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageStoreError(errno == ENOENT ? .notFound : .systemError, "cannot open blob \(file)", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ImageStoreError(.systemError, "cannot stat blob \(file)", errno: errno) }
        try header(path, type: S_IFREG, mode: 0o644, size: Int64(st.st_size))
        var digester = Digester()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImageStoreError(.systemError, "cannot read blob \(file)", errno: errno)
            }
            if n == 0 { break }
            try buffer.withUnsafeBytes { chunk in
                let part = UnsafeRawBufferPointer(rebasing: chunk[0..<n])
                digester.update(part)
                try write(part, path)
            }
        }
        guard digester.count == Int64(st.st_size), digester.finalize() == digest else {
            throw ImageStoreError(.corrupt, "blob \(digest) is damaged: its content no longer matches its digest (\(file)); "
                                      + "the archive was not completed")
        }
    }

    /// Writes the end of the archive. Nothing is complete before this.
    func finish() throws {
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure("cannot finish the archive") }
        finished = true
    }

    private func header(_ path: String, type: mode_t, mode: mode_t, size: Int64) throws {
        guard let entry = archive_entry_new() else {
            throw ImageStoreError(.systemError, "cannot allocate an archive entry", errno: ENOMEM)
        }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, path)
        archive_entry_set_filetype(entry, UInt32(type))
        archive_entry_set_perm(entry, mode)
        archive_entry_set_size(entry, size)
        archive_entry_set_mtime(entry, 0, 0)
        guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw failure("cannot write the entry \"\(path)\"") }
    }

    private func write(_ bytes: UnsafeRawBufferPointer, _ path: String) throws {
        var done = 0
        while done < bytes.count, let base = bytes.baseAddress {
            let n = archive_write_data(archive, base + done, bytes.count - done)
            guard n > 0 else { throw failure("cannot write the entry \"\(path)\"") }
            done += n
        }
    }

    private func failure(_ what: String) -> ImageStoreError {
        let text = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        return ImageStoreError(.systemError, "\(what) in \(target): \(text)", errno: archive_errno(archive) > 0 ? archive_errno(archive) : nil)
    }
}
