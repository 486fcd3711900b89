import FileSystem
import CLibarchive
#if canImport(Glibc)
import Glibc
#endif

/// Writes a layer tar to an fd: a pax tar writer, straight to the fd or through a
/// `CompressorThread` when compressing.
///
/// The compressor is a second libarchive writer rather than a filter on the tar writer for two
/// reasons: the tar bytes pass through this writer's callback, where the observer sees them (for
/// the diff_id) before they are compressed, and the compression can run on a thread of its own.
final class LayerTarWriter {
    private let fd: Int32
    private let observer: LayerStreamObserver
    private let tar: OpaquePointer
    private let compressor: CompressorThread?
    /// An error met inside a libarchive callback, which can only return -1.
    private var failure: LayerError?
    private var plainBytes: Int64 = 0

    /// Bytes written to the fd; read it after `close()`.
    var storedBytes: Int64 { compressor?.storedBytes ?? plainBytes }
    private(set) var uncompressedBytes: Int64 = 0

    init(fd: Int32, compression: LayerCompression, level: Int?, observer: LayerStreamObserver) throws(LayerError) {
        guard let tar = archive_write_new() else {
            throw LayerError(.systemError, entry: nil, "cannot allocate a libarchive writer", errno: ENOMEM)
        }
        self.fd = fd
        self.observer = observer
        self.tar = tar
        do {
            compressor = compression == .none ? nil
                : try CompressorThread(fd: fd, compression: compression, level: level, stored: observer.stored)
        } catch {
            archive_write_free(tar)
            throw error
        }
        try open()
    }

    deinit {
        // close() finishes both; on an error path free() still releases the tar writer, and the
        // compressor thread is stopped by its own deinit (a half-written stream is the caller's
        // to discard).
        archive_write_free(tar)
    }

    private func open() throws(LayerError) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        // pax, restricted: a plain ustar header for entries that fit one, an extended header only
        // when needed (long names, xattrs, sparse maps, large ids), like Docker's layers.
        archive_write_set_format_pax_restricted(tar)
        // xattrs as SCHILY.xattr.* only, the form Go's archive/tar (Docker, containerd) reads;
        // libarchive would otherwise write each one twice.
        archive_write_set_format_option(tar, "pax", "xattrheader", "SCHILY")
        // The tar ends after its two zero blocks, not padded to a 10240-byte record.
        archive_write_set_bytes_in_last_block(tar, 1)
        let writeTar: LibarchiveWriteCallback = { _, context, buffer, length in
            guard let context else { return -1 }
            return Unmanaged<LayerTarWriter>.fromOpaque(context).takeUnretainedValue().writeTar(buffer, length)
        }
        guard archive_write_open2(tar, context, nil, writeTar, nil, nil) == ARCHIVE_OK else {
            throw error(tar, "cannot start the tar stream")
        }
    }

    func writeHeader(_ entry: OpaquePointer, display: String) throws(LayerError) {
        let rc = archive_write_header(tar, entry)
        // ARCHIVE_WARN: a non-ASCII name was written as raw bytes with hdrcharset=BINARY (see
        // UpperDirWalk.setName), which every reader takes back unchanged.
        guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN else { throw error(tar, "cannot write the tar header", entry: display) }
    }

    func writeData(_ buffer: UnsafeRawBufferPointer, display: String) throws(LayerError) {
        var done = 0
        while done < buffer.count {
            guard let base = buffer.baseAddress else { return }
            let n = archive_write_data(tar, base + done, buffer.count - done)
            guard n > 0 else { throw error(tar, "cannot write the data", entry: display) }
            done += n
        }
    }

    /// Writes the end-of-archive blocks and flushes the compressor. Nothing is complete before this.
    func close() throws(LayerError) {
        guard archive_write_close(tar) == ARCHIVE_OK else { throw error(tar, "cannot finish the tar stream") }
        try compressor?.finish()
    }

    // MARK: callbacks

    private func writeTar(_ buffer: UnsafeRawPointer?, _ length: Int) -> la_ssize_t {
        let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
        uncompressedBytes += Int64(length)
        observer.uncompressed?(bytes)
        do {
            try FileIO.writeAll(compressor?.input ?? fd, bytes, path: "")
        } catch {
            failure = LayerError.system(compressor == nil ? "write the layer stream" : "write to the compression thread",
                                        entry: nil, errno: error.errno)
            return -1
        }
        if compressor == nil {
            plainBytes += Int64(length)
            observer.stored?(bytes)
        }
        return length
    }

    /// A callback's own error when there is one (EPIPE is more useful than libarchive's "write
    /// failed"), else libarchive's text.
    private func error(_ archive: OpaquePointer, _ what: String, entry: String? = nil) -> LayerError {
        if let failure { return LayerError(failure.code, entry: entry ?? failure.entry, failure.message, errno: failure.errno) }
        let text = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        return LayerError(.systemError, entry: entry, "\(what): \(text)")
    }
}
