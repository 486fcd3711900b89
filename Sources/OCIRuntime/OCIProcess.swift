#if canImport(Glibc)
import Glibc
#endif

/// A container's process as /proc shows it: found by pid and start time together, so that a
/// pid the kernel gave to another process after the container's ended is never taken for it.
enum OCIProcess {
    /// /proc/PID/stat's state letter and starttime, nil when there is no such process.
    static func stat(of pid: Int32) -> (state: Character, startTicks: Int64)? {
        guard pid > 0 else { return nil }
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        let line = String(decoding: buffer[0..<n], as: UTF8.self)
        // The command name may hold spaces and parentheses: the fields start after the last ')'.
        guard let close = line.lastIndex(of: ")") else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); starttime is field 22.
        guard fields.count > 19, let state = fields[0].first, let start = Int64(fields[19]) else { return nil }
        return (state, start)
    }

    /// Whether the process `pid` that started at `startTicks` still runs (a zombie has ended).
    static func isAlive(_ pid: Int32, startTicks: Int64) -> Bool {
        guard let stat = stat(of: pid), stat.startTicks == startTicks else { return false }
        return stat.state != "Z" && stat.state != "X"
    }
}
