import FileSystem
import Runtime

/// New limits for a container (`berth update`): nil leaves one as it is.
public struct ResourceUpdate: Sendable, Equatable {
    public var memoryBytes: Int64?
    public var cpus: Double?
    public var cpuShares: UInt64?
    public var pidsLimit: Int64?

    public init(memoryBytes: Int64? = nil, cpus: Double? = nil, cpuShares: UInt64? = nil, pidsLimit: Int64? = nil) {
        self.memoryBytes = memoryBytes
        self.cpus = cpus
        self.cpuShares = cpuShares
        self.pidsLimit = pidsLimit
    }

    public var isEmpty: Bool { memoryBytes == nil && cpus == nil && cpuShares == nil && pidsLimit == nil }

    /// The cgroup limits to write; the device list is not touched.
    var limits: ResourceLimits {
        ResourceLimits(memoryBytes: memoryBytes, cpu: cpus.map { CPUBandwidth(cpus: $0) }, pidsLimit: pidsLimit,
                       cpuShares: cpuShares)
    }
}

extension ContainerEngine {
    /// `berth update`: the limits of a running container are written to its cgroup (the kernel
    /// may refuse them: a memory limit below what it uses), then to its launch spec and record,
    /// so the next start keeps them; a container that does not run gets only the files. Under
    /// its lifecycle lock, so no start reads the launch spec halfway.
    public func update(_ record: ContainerRecord, _ update: ResourceUpdate) throws {
        let (lock, current) = try store.lockLifecycle(of: record)
        defer { lock.release() }
        var config = try store.launchConfig(of: current)
        if isRunning(current), current.state.status == .running {
            do {
                try cgroups.update(CgroupPath(current.hostConfig.cgroup), limits: update.limits)
            } catch let error as ContainerError {
                throw error.context("cannot update container \(current.name)")
            }
        }
        if let bytes = update.memoryBytes { config.resources.memoryBytes = bytes }
        if let cpus = update.cpus { config.resources.cpu = CPUBandwidth(cpus: cpus) }
        if let shares = update.cpuShares { config.resources.cpuShares = shares }
        if let pids = update.pidsLimit { config.resources.pidsLimit = pids }
        var changed = current
        if let bytes = update.memoryBytes { changed.hostConfig.memory = bytes }
        if let cpus = update.cpus { changed.hostConfig.nanoCpus = Int64(cpus * 1e9) }
        if let shares = update.cpuShares { changed.hostConfig.cpuShares = Int64(shares) }
        if let pids = update.pidsLimit { changed.hostConfig.pidsLimit = pids }
        try store.writeLaunchSpec(config, durability: .contents)
        try store.write(changed, durable: true)
    }
}
