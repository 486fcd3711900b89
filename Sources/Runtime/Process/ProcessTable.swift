import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// The processes of a container as `ps -ef` shows them (`berth top`): UID PID PPID C STIME TTY
/// TIME CMD, read from /proc for the pids of its cgroup. The parsing and the columns are pure
/// functions of the /proc texts, so they are tested without processes.
public struct ProcessTable: Sendable, Equatable {
    public static let titles = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]

    /// One row per process, in the titles' order.
    public var rows: [[String]]

    /// The fields of /proc/PID/stat `top` needs.
    public struct Stat: Sendable, Equatable {
        public var pid: Int32
        public var command: String
        public var parent: Int32
        public var ttyNumber: Int32
        /// User and system time, in clock ticks.
        public var cpuTicks: Int64
        /// Since boot, in clock ticks.
        public var startTicks: Int64

        /// Parses a stat line. The command name sits between the first '(' and the last ')' and
        /// may itself hold spaces and parentheses; the fields after it are numbered from 3
        /// (state) as in proc(5).
        public static func parse(_ line: String) -> Stat? {
            guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")"), open < close,
                  let pid = Int32(line[..<open].trimmingWhitespace()) else { return nil }
            let command = String(line[line.index(after: open)..<close])
            let fields = line[line.index(after: close)...].split(separator: " ")
            // fields[0] is field 3 (state): ppid 4, tty_nr 7, utime 14, stime 15, starttime 22.
            guard fields.count > 19, let parent = Int32(fields[1]), let tty = Int32(fields[4]),
                  let user = Int64(fields[11]), let system = Int64(fields[12]), let start = Int64(fields[19]) else { return nil }
            return Stat(pid: pid, command: command, parent: parent, ttyNumber: tty, cpuTicks: user + system, startTicks: start)
        }
    }

    /// What the row of one process is made from.
    public struct Sample: Sendable, Equatable {
        public var stat: Stat
        public var uid: UInt32
        /// /proc/PID/cmdline's arguments (empty for a kernel thread or a zombie).
        public var arguments: [String]
    }

    /// The clock the rows are computed against.
    public struct Clock: Sendable, Equatable {
        public var ticksPerSecond: Int64
        /// Seconds since boot (/proc/uptime), and the wall clock now (seconds since the epoch).
        public var uptime: Double
        public var now: Int
    }

    public init(rows: [[String]]) { self.rows = rows }

    /// The table of the processes `pids`, read now from /proc; a process that ended meanwhile is
    /// left out.
    public static func read(pids: [pid_t], userName: (UInt32) -> String = ProcessTable.userName) -> ProcessTable {
        let uptime = (try? readSmallFile("/proc/uptime")).flatMap { $0.split(separator: " ").first }.flatMap { Double($0) } ?? 0
        let clock = Clock(ticksPerSecond: Int64(max(1, sysconf(Int32(_SC_CLK_TCK)))), uptime: uptime, now: Int(time(nil)))
        let samples = pids.compactMap(sample)
        return ProcessTable(rows: samples.map { row($0, clock: clock, userName: userName) })
    }

    private static func sample(_ pid: pid_t) -> Sample? {
        guard let line = try? readSmallFile("/proc/\(pid)/stat"), let stat = Stat.parse(line),
              let status = try? readSmallFile("/proc/\(pid)/status") else { return nil }
        let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }
            .flatMap { $0.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first }.flatMap { UInt32($0) } ?? 0
        let raw = (try? FileIO.readFile("/proc/\(pid)/cmdline")) ?? []
        let arguments = raw.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        return Sample(stat: stat, uid: uid, arguments: arguments.last == "" ? Array(arguments.dropLast()) : arguments)
    }

    /// ps's columns for one process: C is the CPU use over its life in percent, STIME its start
    /// (HH:MM today, else Mon DD), TIME its CPU time as [DD-]HH:MM:SS, CMD its arguments or
    /// [name] when it has none.
    public static func row(_ sample: Sample, clock: Clock, userName: (UInt32) -> String) -> [String] {
        let stat = sample.stat
        let ticks = clock.ticksPerSecond
        let startedSecondsAgo = max(0, clock.uptime - Double(stat.startTicks) / Double(ticks))
        let cpuSeconds = stat.cpuTicks / ticks
        let percent = startedSecondsAgo > 0 ? Int(Double(stat.cpuTicks) / Double(ticks) * 100 / startedSecondsAgo) : 0
        let command = sample.arguments.isEmpty ? "[\(stat.command)]" : sample.arguments.joined(separator: " ")
        return [userName(sample.uid), String(stat.pid), String(stat.parent), String(min(percent, 99)),
                startTime(clock.now - Int(startedSecondsAgo), now: clock.now), ttyName(stat.ttyNumber),
                cpuTime(cpuSeconds), command]
    }

    /// "00:01:05", or "2-03:00:00" past a day, as ps prints TIME.
    public static func cpuTime(_ seconds: Int64) -> String {
        let days = seconds / 86400, hours = seconds / 3600 % 24, minutes = seconds / 60 % 60, rest = seconds % 60
        let clock = [hours, minutes, rest].map { $0 < 10 ? "0\($0)" : "\($0)" }.joined(separator: ":")
        return days > 0 ? "\(days)-" + clock : clock
    }

    /// The controlling terminal from stat's tty_nr: "pts/N" (majors 136-143), "ttyN" (major 4),
    /// "?" for none or another device.
    public static func ttyName(_ number: Int32) -> String {
        let major = (number >> 8) & 0xfff
        let minor = (number & 0xff) | ((number >> 12) & 0xfff00)
        if number == 0 { return "?" }
        if (136...143).contains(major) { return "pts/\((major - 136) * 256 + minor)" }
        if major == 4 { return "tty\(minor)" }
        return "?"
    }

    /// "HH:MM" for a start within the last day, else "MonDD", as ps prints STIME.
    static func startTime(_ epoch: Int, now: Int) -> String {
        var seconds = time_t(epoch)
        var parts = tm()
        localtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if now - epoch < 86400 { return two(parts.tm_hour) + ":" + two(parts.tm_min) }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return months[Int(parts.tm_mon) % 12] + two(parts.tm_mday)
    }

    /// The host's name for a uid (ps shows the host's view), its number when it has none.
    public static func userName(_ uid: UInt32) -> String {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &found) == 0, found != nil, let name = entry.pw_name else {
            return String(uid)
        }
        return String(cString: name)
    }
}
