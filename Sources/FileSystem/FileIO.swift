import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Whole-buffer reads and writes that survive EINTR and short transfers.
public enum FileIO {
    /// Writes all of `bytes` at the file position; `path` only names the file in an error.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileSystemError) {
        do {
            try FileDescriptor(rawValue: fd).writeAll(bytes)
        } catch {
            throw FileSystemError("write", path, errno: (error as? Errno)?.rawValue ?? EIO)
        }
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(FileSystemError) {
        do {
            try FileDescriptor(rawValue: fd).writeAll(bytes)
        } catch {
            throw FileSystemError("write", path, errno: (error as? Errno)?.rawValue ?? EIO)
        }
    }

    /// Writes all of `bytes` at `offset`, leaving the file position alone (pwrite).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(FileSystemError) {
        do {
            try FileDescriptor(rawValue: fd).writeAll(toAbsoluteOffset: offset, bytes)
        } catch {
            throw FileSystemError("write", path, errno: (error as? Errno)?.rawValue ?? EIO)
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
