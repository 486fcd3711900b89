import CLibarchive
#if canImport(Glibc)
import Glibc
#endif

/// Reads a layer tar from an fd, through two libarchive readers stacked on each other.
///
/// The outer reader only decompresses (its filters detect gzip, zstd, xz, bzip2 or none; its format
/// is "raw"); the inner one parses tar from the outer one's output. libarchive offers no other way
/// to see the uncompressed bytes, and the store needs them for the diff_id: here they pass through
/// the inner reader's read callback, where the observer sees them without a copy. After the inner
/// reader meets the end-of-archive blocks, `finish()` drains the rest of the stream, so both digests
/// cover every byte, and a blob with junk after the tar still hashes to what the registry said.
///
/// Only in-process filters are enabled: `archive_read_support_filter_all` would also accept formats
/// that libarchive decodes by running an external program (lrzip, lzop, grzip), which a hostile blob
/// must not be able to start.
final class LayerTarReader {
    private let fd: Int32
    private let observer: LayerStreamObserver
    private let outer: OpaquePointer
    private let inner: OpaquePointer
    private let bufferSize = 1 << 20
    private let buffer: UnsafeMutableRawPointer
    private var outerAtEnd = false
    /// An error met inside a libarchive callback, which can only return -1.
    private var failure: LayerError?

    private(set) var storedBytes: Int64 = 0
    private(set) var uncompressedBytes: Int64 = 0
    private(set) var compression: LayerCompression = .none

    init(fd: Int32, observer: LayerStreamObserver) throws(LayerError) {
        guard let outer = archive_read_new(), let inner = archive_read_new() else {
            throw LayerError(.systemError, entry: nil, "cannot allocate a libarchive reader", errno: ENOMEM)
        }
        self.fd = fd
        self.observer = observer
        self.outer = outer
        self.inner = inner
        self.buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 16)
        try open()
    }

    deinit {
        archive_read_free(inner)
        archive_read_free(outer)
        buffer.deallocate()
    }

    private func open() throws(LayerError) {
        archive_read_support_filter_gzip(outer)
        archive_read_support_filter_zstd(outer)
        archive_read_support_filter_xz(outer)
        archive_read_support_filter_bzip2(outer)
        archive_read_support_format_raw(outer)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let readStored: LibarchiveReadCallback = { _, context, out in
            guard let context, let out else { return -1 }
            return Unmanaged<LayerTarReader>.fromOpaque(context).takeUnretainedValue().readStored(into: out)
        }
        guard archive_read_open2(outer, context, nil, readStored, nil, nil) == ARCHIVE_OK else {
            throw error(outer, "cannot read the layer stream")
        }
        var rawEntry: OpaquePointer?
        let rc = archive_read_next_header(outer, &rawEntry)
        guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN else {
            throw rc == ARCHIVE_EOF ? LayerError(.badArchive, entry: nil, "empty layer stream") : error(outer, "cannot read the layer stream")
        }
        compression = switch archive_filter_code(outer, 0) {
        case ARCHIVE_FILTER_GZIP: .gzip
        case ARCHIVE_FILTER_ZSTD: .zstd
        case ARCHIVE_FILTER_XZ: .xz
        case ARCHIVE_FILTER_BZIP2: .bzip2
        default: .none
        }

        // Only tar: a layer is a tar by definition, and every other format parser is attack surface.
        archive_read_support_format_tar(inner)
        let readUncompressed: LibarchiveReadCallback = { _, context, out in
            guard let context, let out else { return -1 }
            return Unmanaged<LayerTarReader>.fromOpaque(context).takeUnretainedValue().readUncompressed(into: out)
        }
        guard archive_read_open2(inner, context, nil, readUncompressed, nil, nil) == ARCHIVE_OK else {
            throw error(inner, "not a tar archive")
        }
    }

    /// The next entry, nil after the last. The entry is owned by libarchive and valid until the next call.
    func nextEntry() throws(LayerError) -> OpaquePointer? {
        var entry: OpaquePointer?
        let rc = archive_read_next_header(inner, &entry)
        if rc == ARCHIVE_EOF { return nil }
        // ARCHIVE_WARN covers names that cannot be converted to the locale's charset; the bytes are
        // still there (LayerUnpacker reads them raw), so it is not a reason to refuse the layer.
        guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let entry else { throw error(inner, "cannot read the next tar header") }
        return entry
    }

    /// The next block of the current entry's data and its offset in the file (blocks skip the holes
    /// of a sparse file), nil at the end of the entry.
    func nextBlock(entry: String) throws(LayerError) -> (UnsafeRawBufferPointer, Int64)? {
        var block: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        let rc = archive_read_data_block(inner, &block, &size, &offset)
        if rc == ARCHIVE_EOF { return nil }
        guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN else { throw error(inner, "cannot read the data", entry: entry) }
        return (UnsafeRawBufferPointer(start: block, count: size), offset)
    }

    /// Reads what follows the end-of-archive blocks, so that the counts and the observer cover the
    /// whole stream. Call after `nextEntry()` returned nil.
    func finish() throws(LayerError) {
        var ignored: UnsafeRawPointer?
        while true {
            let n = readUncompressed(into: &ignored)
            if n < 0 { throw failure ?? LayerError(.badArchive, entry: nil, "cannot read the end of the layer stream") }
            if n == 0 { break }
        }
        // The decompressor stops at the end of its data; whatever follows on the fd is still part of
        // the stored blob, and the stored observer promised every byte.
        while true {
            let n = readStored(into: &ignored)
            if n < 0 { throw failure ?? LayerError(.badArchive, entry: nil, "cannot read the end of the layer stream") }
            if n == 0 { return }
        }
    }

    // MARK: callbacks

    private func readStored(into out: UnsafeMutablePointer<UnsafeRawPointer?>) -> la_ssize_t {
        while true {
            let n = read(fd, buffer, bufferSize)
            if n < 0 {
                if errno == EINTR { continue }
                failure = LayerError.system("read the layer stream", entry: nil)
                return -1
            }
            storedBytes += Int64(n)
            if n > 0 { observer.stored?(UnsafeRawBufferPointer(start: buffer, count: n)) }
            out.pointee = UnsafeRawPointer(buffer)
            return n
        }
    }

    private func readUncompressed(into out: UnsafeMutablePointer<UnsafeRawPointer?>) -> la_ssize_t {
        while !outerAtEnd {
            var block: UnsafeRawPointer?
            var size = 0
            var offset: la_int64_t = 0
            let rc = archive_read_data_block(outer, &block, &size, &offset)
            if rc == ARCHIVE_EOF { outerAtEnd = true; break }
            guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN else {
                if failure == nil { failure = error(outer, "cannot decompress the layer stream") }
                return -1
            }
            // A zero-length block would read as end of stream to the tar reader: ask for the next.
            guard size > 0, let block else { continue }
            uncompressedBytes += Int64(size)
            observer.uncompressed?(UnsafeRawBufferPointer(start: block, count: size))
            out.pointee = block
            return size
        }
        return 0
    }

    /// The error of a failed libarchive call: a callback's own error when there is one (a read
    /// error on the fd is more useful than libarchive's "truncated input"), else libarchive's text.
    private func error(_ archive: OpaquePointer, _ what: String, entry: String? = nil) -> LayerError {
        if let failure { return LayerError(failure.code, entry: entry ?? failure.entry, failure.message, errno: failure.errno) }
        let text = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        return LayerError(.badArchive, entry: entry, "\(what): \(text)")
    }
}
