#if canImport(Glibc)
import Glibc
#endif

/// Replaces the file at `path` with `bytes` atomically (a reader sees the old file or the new
/// one): a temporary file, then rename; with `durable`, fsync'd before the rename.
func replaceFile(_ path: String, _ bytes: [UInt8], durable: Bool) throws {
    let temp = path + ".tmp-\(getpid())"
    let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
    guard fd >= 0 else {
        if errno == ENOENT { throw ContainerError(.notFound, "\(path): its container was removed meanwhile") }
        throw ContainerError.system("cannot write \(temp)")
    }
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress.map { $0 + offset }, bytes.count - offset) }
        if n < 0 {
            if errno == EINTR { continue }
            let err = errno
            close(fd)
            unlink(temp)
            throw ContainerError.system("cannot write \(temp)", errno: err)
        }
        offset += n
    }
    if durable && fsync(fd) != 0 {
        let err = errno
        close(fd)
        unlink(temp)
        throw ContainerError.system("cannot sync \(temp)", errno: err)
    }
    close(fd)
    guard rename(temp, path) == 0 else {
        let err = errno
        unlink(temp)
        throw ContainerError.system("cannot replace \(path)", errno: err)
    }
}

/// The whole content of a small file.
func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ContainerError.system("cannot read \(path)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw ContainerError.system("cannot read \(path)")
        }
        if n == 0 { return bytes }
        bytes += chunk[0..<n]
    }
}
