#if canImport(Glibc)
import Glibc
#endif

/// Reads a small file (a cgroup or /proc value) in one go. Throws with the path on failure.
func readSmallFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw RuntimeError.system("cannot read \(path)") }
    defer { close(fd) }
    return try readAll(fd: fd, path: path)
}

func readAll(fd: Int32, path: String) throws -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw RuntimeError.system("cannot read \(path)")
        }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Writes `contents` to a new file next to `path` and renames it into place, so a reader sees
/// the old file or the new one, never half of one. `durable` adds an fsync first, for state that
/// must survive a power loss; runtime records (which die with the machine's cgroups) skip it.
func writeFileAtomically(_ path: String, _ contents: String, mode: mode_t = 0o644, durable: Bool = true) throws {
    let temp = path + ".tmp-\(getpid())"
    let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { throw RuntimeError.system("cannot create \(temp)") }
    var ok = false
    defer {
        if !ok { unlink(temp) }
    }
    do {
        defer { close(fd) }
        try writeAll(fd: fd, contents, path: temp)
        guard !durable || fsync(fd) == 0 else { throw RuntimeError.system("cannot fsync \(temp)") }
    }
    guard rename(temp, path) == 0 else { throw RuntimeError.system("cannot rename \(temp) to \(path)") }
    ok = true
}

func writeAll(fd: Int32, _ contents: String, path: String) throws {
    let utf8 = Array(contents.utf8)
    var offset = 0
    while offset < utf8.count {
        let n = utf8.withUnsafeBytes { buffer in
            write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
        }
        if n < 0 {
            if errno == EINTR { continue }
            throw RuntimeError.system("cannot write \(path)")
        }
        offset += n
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs and newlines (no Foundation here).
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
