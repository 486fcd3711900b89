#if canImport(Glibc)
import Glibc
#endif

/// Whole-buffer reads and writes that survive EINTR and short transfers.
public enum FileIO {
    /// Writes all of `bytes` at the file position; `path` only names the file in an error.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileSystemError) {
        try writeAll(fd, bytes, at: nil, path: path)
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(FileSystemError) {
        try writeAll(fd, bytes, at: nil, path: path)
    }

    /// Writes all of `bytes` at `offset`, leaving the file position alone (pwrite).
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws(FileSystemError) {
        try writeAll(fd, bytes, at: .some(offset), path: path)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int64?, path: String) throws(FileSystemError) {
        // withUnsafeBytes rethrows untyped errors: the typed one is carried out by hand.
        var failure: FileSystemError?
        bytes.withUnsafeBytes { buffer in
            do throws(FileSystemError) { try writeAll(fd, buffer, at: offset, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes all of `bytes` at `offset`, leaving the file position alone (pwrite).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(FileSystemError) {
        try writeAll(fd, bytes, at: .some(offset), path: path)
    }

    /// A loop of write(2) or pwrite(2) rather than swift-system's `writeAll`: that one is generic
    /// over its sequence, and its first call in a process looks the conformance up at run time,
    /// a scan of every conformance in the binary (0.1-0.2 ms on berth's start path).
    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64?,
                                 path: String) throws(FileSystemError) {
        var done = 0
        while done < bytes.count {
            let rest = bytes.baseAddress.map { $0 + done }
            let n = offset.map { pwrite(fd, rest, bytes.count - done, off_t($0) + off_t(done)) }
                ?? write(fd, rest, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError("write", path)
            }
            // A file that takes nothing (a full device) would loop forever.
            guard n > 0 else { throw FileSystemError("write", path, errno: ENOSPC) }
            done += n
        }
    }

    /// Everything `fd` holds from its position to the end.
    public static func readAll(_ fd: Int32, path: String) throws(FileSystemError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError("read", path)
            }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }

    /// The whole of a small file (a record, a /proc or cgroup value, an index).
    public static func readFile(_ path: String) throws(FileSystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError("open", path) }
        defer { close(fd) }
        return try readAll(fd, path: path)
    }

    /// The target of the symbolic link at `path`; nil when there is none (or it is longer than
    /// the short names and ids berth keeps in links).
    public static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
