import CLibarchive
#if canImport(Glibc)
import Glibc
#endif

/// Reads an image archive (`berth load`) entry by entry from an fd: a tar, plain or compressed
/// with an in-process filter (gzip, zstd, xz, bzip2). Names are checked and normalised here.
/// A symbolic link comes back as the archive path it names (resolved within the archive, never
/// outside it): Docker's legacy `save` links a layer.tar it has already written. Nothing is
/// ever followed on disk; hard links, devices and the like are refused.
final class ImageArchiveReader {
    /// One entry: its normalised path (no leading "./"), whether it is a directory, and for a
    /// symbolic link, the normalised archive path it points to.
    struct Entry {
        let path: String
        let isDirectory: Bool
        let size: Int64
        var linkTarget: String? = nil
    }

    private let archive: OpaquePointer
    private let source: String

    init(fd: Int32, source: String) throws {
        guard let archive = archive_read_new() else {
            throw ImageStoreError(.systemError, "cannot allocate a libarchive reader", errno: ENOMEM)
        }
        self.archive = archive
        self.source = source
        archive_read_support_filter_gzip(archive)
        archive_read_support_filter_zstd(archive)
        archive_read_support_filter_xz(archive)
        archive_read_support_filter_bzip2(archive)
        archive_read_support_format_tar(archive)
        guard archive_read_open_fd(archive, fd, 1 << 16) == ARCHIVE_OK else {
            throw failure(.rejected, "cannot read \(source) as a tar archive")
        }
    }

    deinit { archive_read_free(archive) }

    /// The next entry, nil at the end.
    func next() throws -> Entry? {
        var raw: OpaquePointer?
        let rc = archive_read_next_header(archive, &raw)
        if rc == ARCHIVE_EOF { return nil }
        guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let entry = raw else {
            throw failure(.rejected, "cannot read the next entry of \(source)")
        }
        let name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        let path = try Self.normalise(name, source: source)
        let type = mode_t(archive_entry_filetype(entry))
        if type == S_IFLNK {
            let target = archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
            return Entry(path: path, isDirectory: false, size: 0,
                         linkTarget: try Self.resolve(link: path, target: target, name: name, source: source))
        }
        guard (type == S_IFREG && archive_entry_hardlink(entry) == nil) || type == S_IFDIR else {
            let kind = archive_entry_hardlink(entry) != nil ? "a hard link" : "not a regular file"
            throw ImageStoreError(.rejected, "the archive entry \"\(name)\" in \(source) is \(kind); an image archive holds only "
                                      + "regular files, directories and links between them")
        }
        return Entry(path: path, isDirectory: type == S_IFDIR, size: archive_entry_size(entry))
    }

    /// Reads the current entry's data into `buffer`; 0 at its end.
    func read(_ buffer: UnsafeMutableRawBufferPointer, entry: String) throws -> Int {
        let n = archive_read_data(archive, buffer.baseAddress, buffer.count)
        guard n >= 0 else { throw failure(.rejected, "cannot read the archive entry \"\(entry)\" of \(source)") }
        return n
    }

    /// The current entry's data, refused beyond `limit` bytes (the archive's JSON documents).
    func readAll(entry: String, limit: Int = 64 << 20) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try read($0, entry: entry) }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
            guard bytes.count <= limit else {
                throw ImageStoreError(.rejected, "the archive entry \"\(entry)\" of \(source) is larger than \(limit) bytes")
            }
        }
    }

    /// `./a/b` → `a/b`; absolute names and `..` are refused, not rewritten: an archive that has
    /// them was not made by a saver.
    static func normalise(_ name: String, source: String) throws -> String {
        var components = name.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        while components.first == "." { components.removeFirst() }
        guard !name.hasPrefix("/"), !components.contains(".."), !components.contains(".") else {
            throw ImageStoreError(.rejected, "the archive entry \"\(name)\" in \(source) is outside the archive "
                                      + "(an absolute path or '..'); refusing it")
        }
        return components.joined(separator: "/")
    }

    /// The archive path a symbolic link at `link` names: its target taken relative to the link's
    /// directory, `..` resolved by the names alone. A target that leaves the archive (absolute,
    /// or `..` above its top) is refused.
    static func resolve(link: String, target: String, name: String, source: String) throws -> String {
        var components = link.split(separator: "/").dropLast().map(String.init)
        for part in target.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                guard !components.isEmpty, !target.hasPrefix("/") else {
                    throw ImageStoreError(.rejected, "the archive entry \"\(name)\" in \(source) links to \"\(target)\", "
                                              + "outside the archive; refusing it")
                }
                components.removeLast()
            default: components.append(String(part))
            }
        }
        guard !target.hasPrefix("/"), !components.isEmpty else {
            throw ImageStoreError(.rejected, "the archive entry \"\(name)\" in \(source) links to \"\(target)\", outside the archive; refusing it")
        }
        return components.joined(separator: "/")
    }

    private func failure(_ code: ImageStoreError.Code, _ what: String) -> ImageStoreError {
        let text = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        return ImageStoreError(code, "\(what): \(text)")
    }
}
