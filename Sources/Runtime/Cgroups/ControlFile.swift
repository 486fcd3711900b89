import FileSystem
#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Reads and writes cgroupfs control files with plain syscalls.
///
/// Files are opened without `O_CREAT`: on cgroupfs a missing control file means the kernel lacks
/// the controller or setting, and that must surface as `ENOENT`, not as a new plain file (which is
/// also what keeps the fixture tests honest, since a temp directory would accept any new file).
enum ControlFile {
    /// Writes `value` with a single write(2): cgroupfs parses each write as one value.
    /// `O_TRUNC` is harmless on cgroupfs and leaves exactly `value` in a fixture file.
    static func write(_ value: String, to path: String) throws(Errno) {
        let fd = try open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        defer { _ = close(fd) }
        try write(value, toOpen: fd)
    }

    /// Writes each value with a write(2) of its own through one open of the file, for files that
    /// take one entry per write (devices.allow): an open and a close less per entry. Stops at the
    /// first failure and returns which value failed, and why (an open that fails is the first's).
    static func writeEach(_ values: some Collection<String>, to path: String) -> (failed: String, error: Errno)? {
        guard let first = values.first else { return nil }
        let fd: Int32
        do { fd = try open(path, O_WRONLY | O_CLOEXEC) } catch { return (first, error) }
        defer { _ = close(fd) }
        for value in values {
            do { try write(value, toOpen: fd) } catch { return (value, error) }
        }
        return nil
    }

    private static func write(_ value: String, toOpen fd: Int32) throws(Errno) {
        var value = value
        let result: (count: Int, errno: Int32) = value.withUTF8 { bytes in
            while true {
                let n = Glibc.write(fd, bytes.baseAddress, bytes.count)
                if n < 0 && Glibc.errno == EINTR { continue }
                return (n, n < 0 ? Glibc.errno : 0)
            }
        }
        if result.count < 0 { throw Errno(rawValue: result.errno) }
        // kernfs takes a whole small write or fails it; a short count would be a truncated value.
        if result.count != value.utf8.count { throw Errno.ioError }
    }

    /// Reads the whole file (cgroup.procs can exceed one page, so read to EOF).
    static func read(_ path: String) throws(Errno) -> String {
        let fd = try open(path, O_RDONLY | O_CLOEXEC)
        defer { _ = close(fd) }
        do {
            return String(decoding: try FileIO.readAll(fd, path: path), as: UTF8.self)
        } catch {
            throw Errno(rawValue: error.errno)
        }
    }

    /// Whether `path` exists; used only on failure paths to tell "cgroup gone" from
    /// "controller not there".
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// The whitespace-separated words of a file such as cgroup.controllers.
    static func words(_ text: String) -> [Substring] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
    }

    private static func open(_ path: String, _ flags: Int32) throws(Errno) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags)
            if fd >= 0 { return fd }
            let err = Glibc.errno
            if err != EINTR { throw Errno(rawValue: err) }
        }
    }
}
