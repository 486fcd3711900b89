import FileSystem
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// One reading of what a container uses (`berth stats`): its cgroup's figures, its network
/// namespace's counters, and when it was taken, so two readings give a CPU share.
public struct ContainerUsage: Sendable, Equatable {
    /// CPU time since the container started, nil when neither its cgroup nor its processes say.
    public var cpuNanoseconds: UInt64?
    public var memoryBytes: UInt64
    /// The cgroup's memory limit, or the host's memory when it has none (Docker's LIMIT).
    public var memoryLimit: UInt64
    public var networkReceived: UInt64
    public var networkSent: UInt64
    public var blockRead: UInt64
    public var blockWritten: UInt64
    public var pids: UInt64
    /// CLOCK_MONOTONIC, nanoseconds.
    public var takenAt: UInt64

    public init(cpuNanoseconds: UInt64?, memoryBytes: UInt64, memoryLimit: UInt64, networkReceived: UInt64,
                networkSent: UInt64, blockRead: UInt64, blockWritten: UInt64, pids: UInt64, takenAt: UInt64) {
        self.cpuNanoseconds = cpuNanoseconds
        self.memoryBytes = memoryBytes
        self.memoryLimit = memoryLimit
        self.networkReceived = networkReceived
        self.networkSent = networkSent
        self.blockRead = blockRead
        self.blockWritten = blockWritten
        self.pids = pids
        self.takenAt = takenAt
    }

    /// A container that is not running: nothing used.
    public static func idle(memoryLimit: UInt64, at time: UInt64) -> ContainerUsage {
        ContainerUsage(cpuNanoseconds: 0, memoryBytes: 0, memoryLimit: memoryLimit, networkReceived: 0, networkSent: 0,
                       blockRead: 0, blockWritten: 0, pids: 0, takenAt: time)
    }

    /// The CPU share between `earlier` and this reading, in percent of one CPU (Docker's CPU %:
    /// 200% is two CPUs busy); 0 without two CPU figures.
    public func cpuPercent(since earlier: ContainerUsage) -> Double {
        guard let now = cpuNanoseconds, let then = earlier.cpuNanoseconds, now >= then, takenAt > earlier.takenAt else { return 0 }
        return Double(now - then) / Double(takenAt - earlier.takenAt) * 100
    }

    public var memoryPercent: Double { memoryLimit == 0 ? 0 : Double(memoryBytes) / Double(memoryLimit) * 100 }
}

extension ContainerEngine {
    /// What the container uses now; an idle reading for one that is not running.
    public func usage(of record: ContainerRecord) throws -> ContainerUsage {
        let now = Self.monotonicNanoseconds()
        let hostMemory = Self.hostMemory()
        let state = state(of: record)
        guard state.status == .running, state.pid > 0 else { return .idle(memoryLimit: hostMemory, at: now) }
        let cgroup = CgroupPath(record.hostConfig.cgroup)
        let stats: CgroupStats
        do {
            stats = try cgroups.stats(of: cgroup)
        } catch {
            // Ended meanwhile: its cgroup went with it.
            if !isRunning(record) { return .idle(memoryLimit: hostMemory, at: now) }
            throw error
        }
        var pids: [pid_t] = []
        if stats.cpuNanoseconds == nil || stats.blockReadBytes == nil { pids = (try? cgroups.processes(in: cgroup)) ?? [] }
        let network = NetworkCounters.read(pid: state.pid)
        let blocks = stats.blockReadBytes.map { ($0, stats.blockWriteBytes ?? 0) } ?? ProcessAccounting.blockIO(of: pids)
        return ContainerUsage(
            cpuNanoseconds: stats.cpuNanoseconds ?? ProcessAccounting.cpuNanoseconds(of: pids),
            memoryBytes: stats.memoryBytes, memoryLimit: stats.memoryLimit.map { min($0, hostMemory) } ?? hostMemory,
            networkReceived: network.received, networkSent: network.sent, blockRead: blocks.0, blockWritten: blocks.1,
            pids: stats.pids, takenAt: now)
    }

    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// The host's memory: what an unlimited container may use.
    static func hostMemory() -> UInt64 {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return 0 }
        return UInt64(pages) * UInt64(pageSize)
    }
}

/// The byte counters of a network namespace's interfaces, from `/proc/PID/net/dev`.
enum NetworkCounters {
    /// Summed over every interface but lo (a container's traffic with itself is not I/O).
    static func read(pid: Int32) -> (received: UInt64, sent: UInt64) {
        guard let bytes = try? FileIO.readFile("/proc/\(pid)/net/dev") else { return (0, 0) }
        return parse(String(decoding: bytes, as: UTF8.self))
    }

    /// `  eth0: RXBYTES packets errs drop fifo frame compressed multicast TXBYTES ...` lines
    /// after two lines of headings.
    static func parse(_ text: String) -> (received: UInt64, sent: UInt64) {
        var received: UInt64 = 0
        var sent: UInt64 = 0
        for line in text.split(separator: "\n").dropFirst(2) {
            let halves = line.split(separator: ":", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let name = halves[0].split(separator: " ").first ?? ""
            guard name != "lo" else { continue }
            let fields = halves[1].split(separator: " ")
            guard fields.count >= 9, let rx = UInt64(fields[0]), let tx = UInt64(fields[8]) else { continue }
            received &+= rx
            sent &+= tx
        }
        return (received, sent)
    }
}

/// CPU time and block I/O summed over a container's processes, for a v1 host whose cpuacct
/// and blkio hierarchies do not hold the container: what has ended is not counted, so a CPU
/// share from two readings is right while the processes stay.
enum ProcessAccounting {
    static func cpuNanoseconds(of pids: [pid_t]) -> UInt64? {
        guard !pids.isEmpty else { return nil }
        let ticks = UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
        var total: UInt64 = 0
        for pid in pids {
            guard let bytes = try? FileIO.readFile("/proc/\(pid)/stat") else { continue }
            total &+= cpuTicks(stat: String(decoding: bytes, as: UTF8.self))
        }
        return total * (1_000_000_000 / ticks)
    }

    /// utime + stime of a /proc/PID/stat line: fields 14 and 15, counted after the command's
    /// closing parenthesis (the command itself may hold spaces and parentheses).
    static func cpuTicks(stat: String) -> UInt64 {
        guard let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return 0 }
        return user + system
    }

    static func blockIO(of pids: [pid_t]) -> (UInt64, UInt64) {
        var read: UInt64 = 0
        var written: UInt64 = 0
        for pid in pids {
            guard let bytes = try? FileIO.readFile("/proc/\(pid)/io") else { continue }
            let text = String(decoding: bytes, as: UTF8.self)
            for line in text.split(separator: "\n") {
                let pair = line.split(separator: ":", maxSplits: 1)
                guard pair.count == 2, let value = UInt64(pair[1].drop(while: { $0 == " " })) else { continue }
                if pair[0] == "read_bytes" { read &+= value }
                if pair[0] == "write_bytes" { written &+= value }
            }
        }
        return (read, written)
    }
}
