import FileSystem
import CLibarchive
#if canImport(Glibc)
import Glibc
#endif

/// Compresses a stream on a thread of its own: the tar writer writes into `input` (a pipe) and the
/// thread feeds what it reads to a libarchive writer (format "raw", one gzip/zstd/… filter) that
/// writes to the output fd.
///
/// Why a thread: deflate costs four times what walking the tree and writing the tar does, and in
/// one thread the two add up; `tar | gzip` overlaps them on two cores, and so does this (issue 4
/// asks commit to stay within 1.2× of that pipeline). Why a pipe: it is the bounded queue with
/// back-pressure and wake-ups already written, and the only state the two threads share is handed
/// over by pthread_create and pthread_join, so no lock is needed.
final class CompressorThread {
    /// Where the tar goes; closed by `finish()`.
    private(set) var input: Int32 = -1
    private var output: Int32 = -1
    private let fd: Int32
    private let stored: ((UnsafeRawBufferPointer) -> Void)?
    private let compressor: OpaquePointer
    private var thread: pthread_t?
    private var finished = false
    // Written by the thread, read after pthread_join.
    private var failure: LayerError?
    private(set) var storedBytes: Int64 = 0

    private static let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ, Linux

    init(fd: Int32, compression: LayerCompression, level: Int?, stored: ((UnsafeRawBufferPointer) -> Void)?) throws(LayerError) {
        guard let compressor = archive_write_new() else {
            throw LayerError(.systemError, entry: nil, "cannot allocate a libarchive writer", errno: ENOMEM)
        }
        self.fd = fd
        self.stored = stored
        self.compressor = compressor
        try configure(compression: compression, level: level)
        var ends: [Int32] = [-1, -1]
        guard LayerFS.pipeCloexec(&ends) == 0 else { throw LayerError.system("create the compression pipe", entry: nil) }
        output = ends[0]
        input = ends[1]
        // 1 MiB instead of 64 KiB: fewer wake-ups; failure only means the default size.
        _ = fcntl(input, CompressorThread.setPipeSize, 1 << 20)
        let context = Unmanaged.passUnretained(self).toOpaque()
        var created = pthread_t()
        let rc = pthread_create(&created, nil, { context in
            guard let context else { return nil }
            Unmanaged<CompressorThread>.fromOpaque(context).takeUnretainedValue().run()
            return nil
        }, context)
        guard rc == 0 else { throw LayerError.system("start the compression thread", entry: nil, errno: rc) }
        thread = created
    }

    deinit {
        // An error path that never reached finish(): end the input so the thread stops, and wait
        // for it before freeing what it uses.
        if !finished { _ = try? finish() }
        if input >= 0 { close(input) }
        if output >= 0 { close(output) }
        archive_write_free(compressor)
    }

    private func configure(compression: LayerCompression, level: Int?) throws(LayerError) {
        let added = switch compression {
        case .gzip: archive_write_add_filter_gzip(compressor)
        case .zstd: archive_write_add_filter_zstd(compressor)
        case .xz: archive_write_add_filter_xz(compressor)
        case .bzip2: archive_write_add_filter_bzip2(compressor)
        case .none: archive_write_add_filter_none(compressor)
        }
        guard added == ARCHIVE_OK else { throw libarchiveError("cannot use \(compression.rawValue) compression") }
        // gzip headers carry a timestamp by default: leaving it out makes the same tree give the
        // same blob, and so the same digest, on every commit.
        if compression == .gzip { archive_write_set_filter_option(compressor, "gzip", "timestamp", nil) }
        if let level {
            guard archive_write_set_filter_option(compressor, nil, "compression-level", String(level)) == ARCHIVE_OK else {
                throw libarchiveError("invalid compression level \(level)")
            }
        }
        archive_write_set_format_raw(compressor)
        // Without this the last block is padded with zeros to 10240 bytes, which a gzip reader
        // would see as trailing garbage.
        archive_write_set_bytes_in_last_block(compressor, 1)
        let write: LibarchiveWriteCallback = { _, context, buffer, length in
            guard let context else { return -1 }
            return Unmanaged<CompressorThread>.fromOpaque(context).takeUnretainedValue().writeStored(buffer, length)
        }
        guard archive_write_open2(compressor, Unmanaged.passUnretained(self).toOpaque(), nil, write, nil, nil) == ARCHIVE_OK else {
            throw libarchiveError("cannot start the compressed stream")
        }
        guard let stream = archive_entry_new() else {
            throw LayerError(.systemError, entry: nil, "cannot allocate a libarchive entry", errno: ENOMEM)
        }
        defer { archive_entry_free(stream) }
        archive_entry_set_filetype(stream, UInt32(Glibc.S_IFREG))
        archive_entry_copy_pathname(stream, "layer.tar")
        guard archive_write_header(compressor, stream) == ARCHIVE_OK else { throw libarchiveError("cannot start the compressed stream") }
    }

    /// Ends the input and waits for the thread to flush the compressed stream.
    func finish() throws(LayerError) {
        guard !finished else { return }
        finished = true
        if input >= 0 { close(input) }
        input = -1
        if let thread { pthread_join(thread, nil) }
        thread = nil
        if let failure { throw failure }
    }

    // MARK: the thread

    private func run() {
        let size = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(output, buffer, size)
            if n < 0 {
                if errno == EINTR { continue }
                if failure == nil { failure = LayerError.system("read the compression pipe", entry: nil) }
                return
            }
            if n == 0 { break }
            // After a failure keep draining, so the writer never blocks on a full pipe (or gets
            // EPIPE) before it reaches finish().
            guard failure == nil else { continue }
            var done = 0
            while done < n {
                let written = archive_write_data(compressor, buffer + done, n - done)
                guard written > 0 else {
                    if failure == nil { failure = libarchiveError("cannot compress the layer") }
                    break
                }
                done += written
            }
        }
        if failure == nil, archive_write_close(compressor) != ARCHIVE_OK {
            failure = failure ?? libarchiveError("cannot finish the compressed stream")
        }
    }

    private func writeStored(_ buffer: UnsafeRawPointer?, _ length: Int) -> la_ssize_t {
        let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
        do {
            try FileIO.writeAll(fd, bytes, path: "")
        } catch {
            failure = LayerError.system("write the layer stream", entry: nil, errno: error.errno)
            return -1
        }
        storedBytes += Int64(length)
        stored?(bytes)
        return length
    }

    private func libarchiveError(_ what: String) -> LayerError {
        if let failure { return failure }
        let text = archive_error_string(compressor).map { String(cString: $0) } ?? "unknown error"
        return LayerError(.systemError, entry: nil, "\(what): \(text)")
    }
}
