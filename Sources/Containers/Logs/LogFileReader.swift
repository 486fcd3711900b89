#if canImport(Glibc)
import Glibc
#endif

/// One file of a json-file log, read forward a line at a time from wherever it was positioned.
///
/// The monitor writes whole records with O_APPEND, but a reader can still catch the file between
/// two write() calls, so a line without its newline yet is kept until the rest arrives.
final class LogFileReader {
    /// The device and inode of the open file: how a follower sees that PATH was rotated away.
    struct Identity: Equatable, Sendable {
        let device: UInt64
        let inode: UInt64

        init(_ st: stat) {
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
        }
    }

    let path: String
    let identity: Identity
    private let fd: Int32
    private var partial: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 64 * 1024)

    /// The longest line kept while waiting for its end. The monitor's records are at most about
    /// 100 KiB; anything longer is damage, dropped rather than held in memory.
    private static let maximumLine = 1 << 20

    /// Opens `path`; nil when it does not exist (not yet created, or rotated away just now).
    init?(path: String) throws(ContainerError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw ContainerError.system("cannot read \(path)")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let err = errno
            close(fd)
            throw ContainerError.system("cannot read \(path)", errno: err)
        }
        self.path = path
        self.fd = fd
        identity = Identity(st)
    }

    deinit { close(fd) }

    /// The identity of whatever file `path` names now; nil when there is none.
    static func identity(of path: String) -> Identity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Identity(st)
    }

    func seek(to offset: Int) throws(ContainerError) {
        guard lseek(fd, off_t(offset), SEEK_SET) >= 0 else { throw ContainerError.system("cannot read \(path)") }
        partial.removeAll()
    }

    /// Reads to the end of the file as it is now, calling `body` with every complete line
    /// (without its newline). An unfinished last line waits for the next call.
    func readLines(_ body: ([UInt8]) -> Void) throws(ContainerError) {
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ContainerError.system("cannot read \(path)")
            }
            if n == 0 { return }
            var start = 0
            for i in 0..<n where chunk[i] == UInt8(ascii: "\n") {
                if partial.isEmpty {
                    body(Array(chunk[start..<i]))
                } else {
                    partial += chunk[start..<i]
                    body(partial)
                    partial.removeAll(keepingCapacity: true)
                }
                start = i + 1
            }
            partial += chunk[start..<n]
            if partial.count > Self.maximumLine { partial.removeAll() }
        }
    }

    /// Starts over from the top when the file is now shorter than what was read: with
    /// --log-max-files 1 the monitor rotates by truncating the file in place.
    func rewindIfTruncated() throws(ContainerError) {
        var st = stat()
        let position = lseek(fd, 0, SEEK_CUR)
        guard fstat(fd, &st) == 0, position >= 0 else { throw ContainerError.system("cannot read \(path)") }
        if st.st_size < position { try seek(to: 0) }
    }

    /// Where the last `count` complete lines of the file begin, found by reading backwards from
    /// the end (a tail of a large log reads only its end), and how many complete lines follow
    /// that offset (fewer than `count` when the file is shorter). An unfinished last line is not
    /// counted.
    func tailStart(lines count: Int) throws(ContainerError) -> (offset: Int, lines: Int) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ContainerError.system("cannot read \(path)") }
        var position = Int(st.st_size)
        var newlines = 0
        while position > 0 {
            let length = min(chunk.count, position)
            position -= length
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(position)) }
            if n < 0 {
                if errno == EINTR { position += length; continue }
                throw ContainerError.system("cannot read \(path)")
            }
            // A short read means the file shrank under us: count what was read.
            for i in stride(from: n - 1, through: 0, by: -1) where chunk[i] == UInt8(ascii: "\n") {
                // The newline before the first wanted line is the (count + 1)th from the end.
                newlines += 1
                if newlines == count + 1 { return (position + i + 1, count) }
            }
        }
        return (0, newlines)
    }
}
