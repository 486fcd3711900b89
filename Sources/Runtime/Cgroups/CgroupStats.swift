/// What a cgroup's processes use, as `berth stats` shows it: read from the cgroup's files by
/// `CgroupDriver.stats(of:)`. A figure the host's cgroups do not keep for the container is nil
/// (v1 without cpuacct or blkio in a hierarchy berth places containers in).
public struct CgroupStats: Sendable, Equatable {
    /// CPU time used since the cgroup was made (v1 cpuacct.usage, v2 cpu.stat usage_usec).
    public var cpuNanoseconds: UInt64?
    /// Memory in use minus what the kernel can drop at once (Docker's rule: v1 usage minus
    /// the page cache, v2 memory.current minus inactive_file).
    public var memoryBytes: UInt64
    /// The memory limit; nil when the cgroup has none.
    public var memoryLimit: UInt64?
    public var blockReadBytes: UInt64?
    public var blockWriteBytes: UInt64?
    public var pids: UInt64

    public init(cpuNanoseconds: UInt64?, memoryBytes: UInt64, memoryLimit: UInt64?, blockReadBytes: UInt64?,
                blockWriteBytes: UInt64?, pids: UInt64) {
        self.cpuNanoseconds = cpuNanoseconds
        self.memoryBytes = memoryBytes
        self.memoryLimit = memoryLimit
        self.blockReadBytes = blockReadBytes
        self.blockWriteBytes = blockWriteBytes
        self.pids = pids
    }
}

/// The parsing of the files `CgroupStats` is read from, apart from the reading (unit-tested).
public enum CgroupStatsParser {
    /// v1's largest memory.limit_in_bytes (PAGE_COUNTER_MAX pages) and anything near it is "no
    /// limit"; v2 writes "max".
    public static func limit(_ text: String) -> UInt64? {
        let word = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first.map(String.init) ?? ""
        guard word != "max", let value = UInt64(word), value < (1 << 62) else { return nil }
        return value
    }

    /// The first number of a one-value file (memory.current, pids.current, cpuacct.usage).
    public static func number(_ text: String) -> UInt64? {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first.flatMap { UInt64($0) }
    }

    /// The value of `key` in a "key value" file (memory.stat, cpu.stat).
    public static func value(of key: String, in text: String) -> UInt64? {
        CgroupEventsParser.value(of: key, in: text).map { UInt64(clamping: $0) }
    }

    /// Bytes read and written in v1's blkio.throttle.io_service_bytes ("8:0 Read 4096" lines,
    /// summed over devices; the "Total" lines are skipped).
    public static func blockIO(v1 text: String) -> (read: UInt64, write: UInt64) {
        var read: UInt64 = 0
        var write: UInt64 = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let bytes = UInt64(fields[2]) else { continue }
            if fields[1] == "Read" { read &+= bytes }
            if fields[1] == "Write" { write &+= bytes }
        }
        return (read, write)
    }

    /// Bytes read and written in v2's io.stat ("8:0 rbytes=4096 wbytes=0 rios=1 ..." lines,
    /// summed over devices).
    public static func blockIO(v2 text: String) -> (read: UInt64, write: UInt64) {
        var read: UInt64 = 0
        var write: UInt64 = 0
        for line in text.split(separator: "\n") {
            for field in line.split(separator: " ").dropFirst() {
                let pair = field.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, let bytes = UInt64(pair[1]) else { continue }
                if pair[0] == "rbytes" { read &+= bytes }
                if pair[0] == "wbytes" { write &+= bytes }
            }
        }
        return (read, write)
    }

    /// Usage minus `reclaimable`, never below zero.
    static func withoutCache(_ usage: UInt64, _ reclaimable: UInt64?) -> UInt64 {
        guard let reclaimable, reclaimable < usage else { return reclaimable == nil ? usage : 0 }
        return usage - reclaimable
    }
}

extension CgroupV1Driver {
    public func stats(of path: CgroupPath) throws -> CgroupStats {
        let relative = try relativeDirectory(of: path)
        let memory = hierarchyDirectory(of: .memory) + relative
        guard ControlFile.exists(memory) || ControlFile.exists(hierarchyDirectory(of: .pids) + relative) else {
            throw CgroupErrors.notFound("read the statistics of", path)
        }
        let usage = read(memory + "/memory.usage_in_bytes").flatMap(CgroupStatsParser.number) ?? 0
        let stat = read(memory + "/memory.stat") ?? ""
        let cache = CgroupStatsParser.value(of: "total_cache", in: stat) ?? CgroupStatsParser.value(of: "cache", in: stat)
        // cpuacct is co-mounted with cpu on most hosts; on its own it is found by its name.
        let cpu = [hierarchyDirectory(of: .cpu), root + "/cpuacct"].lazy
            .compactMap { self.read($0 + relative + "/cpuacct.usage").flatMap(CgroupStatsParser.number) }.first
        let blkio = read(root + "/blkio" + relative + "/blkio.throttle.io_service_bytes").map { CgroupStatsParser.blockIO(v1: $0) }
        let pids = read(hierarchyDirectory(of: .pids) + relative + "/pids.current").flatMap(CgroupStatsParser.number)
            ?? UInt64((try? processes(in: path).count) ?? 0)
        return CgroupStats(cpuNanoseconds: cpu, memoryBytes: CgroupStatsParser.withoutCache(usage, cache),
                           memoryLimit: read(memory + "/memory.limit_in_bytes").flatMap(CgroupStatsParser.limit),
                           blockReadBytes: blkio?.read, blockWriteBytes: blkio?.write, pids: pids)
    }

    private func read(_ path: String) -> String? { try? ControlFile.read(path) }
}

extension CgroupV2Driver {
    public func stats(of path: CgroupPath) throws -> CgroupStats {
        let leaf = try directory(of: path)
        guard ControlFile.exists(leaf) else { throw CgroupErrors.notFound("read the statistics of", path) }
        let usage = read(leaf + "/memory.current").flatMap(CgroupStatsParser.number) ?? 0
        let inactive = read(leaf + "/memory.stat").flatMap { CgroupStatsParser.value(of: "inactive_file", in: $0) }
        let cpu = read(leaf + "/cpu.stat").flatMap { CgroupStatsParser.value(of: "usage_usec", in: $0) }
        let io = read(leaf + "/io.stat").map { CgroupStatsParser.blockIO(v2: $0) }
        let pids = read(leaf + "/pids.current").flatMap(CgroupStatsParser.number)
            ?? UInt64((try? processes(in: path).count) ?? 0)
        return CgroupStats(cpuNanoseconds: cpu.map { $0 &* 1000 }, memoryBytes: CgroupStatsParser.withoutCache(usage, inactive),
                           memoryLimit: read(leaf + "/memory.max").flatMap(CgroupStatsParser.limit),
                           blockReadBytes: io?.read, blockWriteBytes: io?.write, pids: pids)
    }

    private func read(_ path: String) -> String? { try? ControlFile.read(path) }
}
