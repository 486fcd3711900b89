#if canImport(Glibc)
import Glibc
#endif

/// The resource limits a container asks for. `nil` means "no limit".
public struct ResourceLimits: Sendable, Equatable {
    /// Memory limit in bytes; swap is limited to the same figure (no swap use beyond it).
    public var memoryBytes: Int64?
    /// CPU bandwidth: `quota` microseconds of CPU time every `period` microseconds.
    public var cpu: CPUBandwidth?
    /// Maximum number of tasks (processes and threads) in the container.
    public var pidsLimit: Int64?
    /// The devices the container may open or create, applied when its cgroup is created, before
    /// its first process runs. nil leaves the device cgroup as it is (the drivers' tests of the
    /// other limits); a container's config always has a list (`ContainerConfig`'s default is
    /// `DeviceRule.containerDefault`).
    public var devices: [DeviceRule]?
    /// The container's CPU share against its siblings when CPU is scarce: v1's cpu.shares
    /// (2…262144, 1024 a new cgroup's), written to v2's cpu.weight as runc converts it. The OCI
    /// spec's `linux.resources.cpu.shares`: containerd and Kubernetes always set it.
    public var cpuShares: UInt64?
    /// The memory the kernel reclaims from others first when memory is short: v1's
    /// memory.soft_limit_in_bytes, v2's memory.low (the OCI spec's `memory.reservation`).
    public var memoryReservationBytes: Int64?
    /// How eagerly the kernel swaps the container's anonymous memory, 0…100: v1's
    /// memory.swappiness. v2 has no such file; the v2 driver leaves it out (berth-oci warns).
    public var memorySwappiness: UInt64?
    /// The CPUs and memory nodes the container may use (the OCI spec's `cpu.cpus`/`cpu.mems`).
    public var cpuset: CPUSet?
    /// Block-I/O weights and throttles (the OCI spec's `blockIO`): v1's blkio files, v2's
    /// io.weight and io.max. This and the three below only berth-oci sets, from a spec.
    public var blockIO: OCIRuntimeSpec.Linux.BlockIO?
    /// The most hugetlb memory of each page size ("2MB"): v1's hugetlb.SIZE.limit_in_bytes,
    /// v2's hugetlb.SIZE.max.
    public var hugepageLimits: [OCIRuntimeSpec.Linux.HugepageLimit] = []
    /// v1's net_cls.classid and net_prio.ifpriomap (v2 has no such controllers).
    public var network: OCIRuntimeSpec.Linux.Network?
    /// v2 control files written as given ("memory.high": "1G"), each of an enabled controller.
    public var unified: [String: String] = [:]

    public init(memoryBytes: Int64? = nil, cpu: CPUBandwidth? = nil, pidsLimit: Int64? = nil, devices: [DeviceRule]? = nil,
                cpuShares: UInt64? = nil, memoryReservationBytes: Int64? = nil, memorySwappiness: UInt64? = nil,
                cpuset: CPUSet? = nil) {
        self.memoryBytes = memoryBytes
        self.cpu = cpu
        self.pidsLimit = pidsLimit
        self.devices = devices
        self.cpuShares = cpuShares
        self.memoryReservationBytes = memoryReservationBytes
        self.memorySwappiness = memorySwappiness
        self.cpuset = cpuset
    }

    /// No limit of an amount at all (the device list is not one).
    public var isEmpty: Bool {
        memoryBytes == nil && cpu == nil && pidsLimit == nil && cpuShares == nil
            && memoryReservationBytes == nil && memorySwappiness == nil && cpuset == nil
            && blockIO == nil && hugepageLimits.isEmpty && network == nil && unified.isEmpty
    }

    /// The limits without the device list, which `update` leaves as it is.
    public var withoutDevices: ResourceLimits {
        var limits = self
        limits.devices = nil
        return limits
    }

    /// The shares as a v2 cpu.weight (1…10000), by runc's formula: 2 → 1, 262144 → 10000.
    public static func cpuWeight(shares: UInt64) -> UInt64 {
        1 + ((min(max(shares, 2), 262_144) - 2) * 9_999) / 262_142
    }
}

/// CFS bandwidth control: `quota` µs per `period` µs (`--cpus 0.5` = 50 000 / 100 000).
public struct CPUBandwidth: Sendable, Equatable {
    public var quotaMicros: Int64
    public var periodMicros: Int64

    public init(quotaMicros: Int64, periodMicros: Int64 = 100_000) {
        self.quotaMicros = quotaMicros
        self.periodMicros = periodMicros
    }

    /// `--cpus 1.5` → quota 150 000 µs per 100 000 µs period.
    public init(cpus: Double, periodMicros: Int64 = 100_000) {
        self.init(quotaMicros: Int64((cpus * Double(periodMicros)).rounded()), periodMicros: periodMicros)
    }
}

/// How the host mounts cgroups, detected once at start-up.
public enum CgroupMode: Sendable, Equatable {
    /// Pure cgroup v2: one cgroup2 hierarchy at the mount point, all controllers there.
    case unified
    /// cgroup v1 controllers (memory, cpu, pids) on their own hierarchies. A cgroup2 mount may
    /// exist beside them (hybrid hosts) but holds none of the controllers we need.
    case legacy
}

/// Where a container's cgroup lives, relative to each hierarchy's root: `berth/<id>`.
/// Recorded in the container's runtime state so a later command can remove it after a crash.
public struct CgroupPath: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let relative: String

    public init(_ relative: String) {
        // Byte by byte rather than split and joined: on the start path, the generic `joined`
        // would cost a run-time conformance lookup (a scan of every conformance in the binary).
        let slash = UInt8(ascii: "/")
        var normalized: [UInt8] = []
        normalized.reserveCapacity(relative.utf8.count)
        for byte in relative.utf8 {
            // A slash at the start or after another is dropped.
            if byte == slash && (normalized.isEmpty || normalized.last == slash) { continue }
            normalized.append(byte)
        }
        if normalized.last == slash { normalized.removeLast() }
        self.relative = String(decoding: normalized, as: UTF8.self)
    }

    public var description: String { "/" + relative }
}

/// What the launcher needs to put the child into its cgroup.
public struct CgroupPlacement: Sendable {
    /// An O_DIRECTORY fd of the v2 cgroup, for clone3's CLONE_INTO_CGROUP; nil on v1.
    public let directoryFD: Int32?
    /// v1: the cgroup's `tasks` file in each hierarchy, open for writing. The child joins by
    /// writing `0` to each, a single thread moving itself: the one migration for which the
    /// kernel does not wait out an RCU grace period (6-16 ms here, against 0.25 ms). Empty when
    /// the parent must attach the child instead.
    public let taskFiles: [Int32]

    public init(directoryFD: Int32?, taskFiles: [Int32] = []) {
        self.directoryFD = directoryFD
        self.taskFiles = taskFiles
    }

    /// The caller owns the fds and closes them after the clone.
    public func close() {
        if let directoryFD { _ = Glibc.close(directoryFD) }
        for fd in taskFiles { _ = Glibc.close(fd) }
    }
}

/// What the kernel recorded about a cgroup's life, read after the container exits.
public struct CgroupEvents: Sendable, Equatable {
    /// Processes the OOM killer killed in this cgroup.
    public var oomKills: Int

    public init(oomKills: Int) { self.oomKills = oomKills }
}

/// A cgroup driver: the small interface both the v1 and v2 drivers sit behind (crun's
/// cgroup-internal.h has the same four lifecycle entries; the freezer's three are pause's).
/// Paths are resolved under the driver's `root`, so tests point it at a fixture directory.
public protocol CgroupDriver: Sendable {
    var mode: CgroupMode { get }

    /// Creates the cgroup (every hierarchy on v1), enabling controllers in the ancestors as
    /// needed (v2), and applies `limits`. A limit that cannot be applied throws, and whatever was
    /// created is removed again before the error is thrown.
    func create(_ path: CgroupPath, limits: ResourceLimits) throws -> CgroupPlacement

    /// Moves `pid` into the cgroup (v1, or v2 when clone3 could not place the child itself).
    func attach(pid: pid_t, to path: CgroupPath) throws

    /// What a new process needs to start inside the existing cgroup (`berth exec`), as `create`
    /// gives for a new one.
    func placement(joining path: CgroupPath) throws -> CgroupPlacement

    /// Reads the events recorded for the cgroup (OOM kills).
    func events(of path: CgroupPath) throws -> CgroupEvents

    /// Kills whatever still runs in the cgroup and removes it. Idempotent: a cgroup that is
    /// already gone is not an error.
    func destroy(_ path: CgroupPath) throws

    /// Freezes every process in the cgroup (pause) and returns once the kernel reports them all
    /// frozen. When they do not all freeze within the driver's deadline, the cgroup is thawed
    /// again and the error says so: a freeze either holds or is undone.
    func freeze(_ path: CgroupPath) throws

    /// Thaws the cgroup's processes. A cgroup that is not frozen is left as it is.
    func thaw(_ path: CgroupPath) throws

    /// Whether the cgroup is frozen or being frozen: asked to stay frozen until thawed.
    func isFrozen(_ path: CgroupPath) throws -> Bool

    /// Changes the memory, CPU and pids limits of an existing cgroup (`berth update`); a limit
    /// that is nil stays as it is. A memory limit below what the processes use and the kernel
    /// cannot reclaim is refused (`.invalidState`), leaving the limits as they were.
    func update(_ path: CgroupPath, limits: ResourceLimits) throws

    /// The pids of the processes in the cgroup (`berth top`), in the kernel's order.
    func processes(in path: CgroupPath) throws -> [pid_t]

    /// What the cgroup's processes use now: CPU time, memory, block I/O, pids (`berth stats`).
    func stats(of path: CgroupPath) throws -> CgroupStats

    /// Lets processes about to be killed die at once: thaws them and lifts the CPU quota, since
    /// a process throttled to a millisecond a second takes that long to unwind its exit (its
    /// mounts, its memory). Best effort and only for a cgroup whose processes are all to die.
    func releaseHolds(on path: CgroupPath)
}
