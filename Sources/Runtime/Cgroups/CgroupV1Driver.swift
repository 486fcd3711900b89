#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// The driver for cgroup v1 hosts (and hybrid ones, whose cgroup2 mount holds none of the
/// controllers we need): the memory, cpu, pids and freezer controllers each on their own hierarchy
/// under `root`, each holding its own copy of the container's cgroup (the freezer's is what pause
/// freezes).
///
/// As runc does, the cgroup is made in every hierarchy present, limited or not, so accounting
/// and `destroy` work the same for every container. A hierarchy that is missing is skipped
/// unless a requested limit needs it, which is an `.unsupported` error.
public struct CgroupV1Driver: CgroupDriver {
    public var mode: CgroupMode { .legacy }
    /// The directory holding one mount per hierarchy (a tmpfs at /sys/fs/cgroup).
    public let root: String
    let syscalls: CgroupSyscalls
    /// How long `destroy` waits for killed processes to leave before it gives up.
    let removalTimeout: Duration
    /// How long `freeze` waits for every process to freeze before it thaws them and gives up.
    let freezeTimeout: Duration
    /// Whether exec and destroy look for the container in the hierarchies only an OCI spec's
    /// limits use (blkio, hugetlb, net_cls, net_prio): berth-oci's driver. berth's own
    /// containers never have cgroups there, so its driver does not pay for looking.
    let optionalControllers: Bool

    public init(root: String = CgroupModeDetector.defaultRoot, optionalControllers: Bool = false) {
        self.init(root: root, syscalls: .live, removalTimeout: .seconds(1), optionalControllers: optionalControllers)
    }

    init(root: String, syscalls: CgroupSyscalls, removalTimeout: Duration, freezeTimeout: Duration = CgroupFreezing.timeout,
         optionalControllers: Bool = false) {
        self.root = root
        self.syscalls = syscalls
        self.removalTimeout = removalTimeout
        self.freezeTimeout = freezeTimeout
        self.optionalControllers = optionalControllers
    }

    public func create(_ path: CgroupPath, limits: ResourceLimits) throws -> CgroupPlacement {
        let components = try path.validatedComponents()
        try limits.validate()
        var createdIn: [String] = []
        var leaves: [String] = []
        do {
            for controller in CgroupController.allCases {
                let hierarchy = hierarchyDirectory(of: controller)
                guard let leaf = try makeLeaf(components, in: hierarchy, createdIn: &createdIn) else {
                    if limits.requires(controller) {
                        throw RuntimeError(
                            .unsupported,
                            "cannot set \(controller.limitName): no cgroup v1 \(controller.rawValue) hierarchy is mounted at "
                                + "\(hierarchy); mount one there or \(controller.withoutLimit)")
                    }
                    continue
                }
                try apply(limits, of: controller, in: leaf)
                leaves.append(leaf)
            }
            if let cpuset = limits.cpuset { leaves.append(try makeCpusetLeaf(components, cpuset, createdIn: &createdIn)) }
            for controller in CgroupController.optionalCases where limits.requires(controller) {
                leaves.append(try makeOptionalLeaf(controller, components, limits, createdIn: &createdIn))
            }
        } catch {
            // Only the levels made for this container go with it; a parent shared with others stays.
            for hierarchy in createdIn.reversed() {
                try? syscalls.removeDirectory(hierarchy + "/" + path.relative)
                ancestors.removeMarked(components, below: hierarchy)
            }
            throw error
        }
        return CgroupPlacement(directoryFD: nil, taskFiles: Self.openTaskFiles(in: leaves) ?? [])
    }

    public func placement(joining path: CgroupPath) throws -> CgroupPlacement {
        let relative = try relativeDirectory(of: path)
        var leaves: [String] = []
        for controller in CgroupController.allCases {
            let hierarchy = hierarchyDirectory(of: controller)
            // The hierarchy is looked for only when the leaf is missing: one lookup per
            // controller on every exec, not two.
            guard ControlFile.exists(hierarchy + relative) else {
                if ControlFile.exists(hierarchy) { throw CgroupErrors.notFound("join", path) }
                continue
            }
            leaves.append(hierarchy + relative)
        }
        if let cpuset = existingCpusetLeaf(relative) { leaves.append(cpuset) }
        leaves += existingOptionalLeaves(relative)
        return CgroupPlacement(directoryFD: nil, taskFiles: Self.openTaskFiles(in: leaves) ?? [])
    }

    /// The `tasks` file of each leaf, open for writing; nil (and nothing left open) when one
    /// cannot be opened, and the parent attaches the child as before.
    private static func openTaskFiles(in leaves: [String]) -> [Int32]? {
        var fds: [Int32] = []
        for leaf in leaves {
            let fd = open(leaf + "/tasks", O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else {
                for opened in fds { close(opened) }
                return nil
            }
            fds.append(fd)
        }
        return fds
    }

    public func attach(pid: pid_t, to path: CgroupPath) throws {
        let relative = try relativeDirectory(of: path)
        for controller in CgroupController.allCases {
            let hierarchy = hierarchyDirectory(of: controller)
            let file = hierarchy + relative + "/cgroup.procs"
            do {
                try ControlFile.write(String(pid), to: file)
            } catch .noSuchFileOrDirectory {
                // A hierarchy the host lacks was skipped by create; a missing cgroup is an error.
                if ControlFile.exists(hierarchy) { throw CgroupErrors.notFound("move process \(pid) into", path) }
            } catch {
                throw CgroupErrors.system("cannot move process \(pid) into cgroup: write \(pid) to \(file)", error)
            }
        }
        if let cpuset = existingCpusetLeaf(relative) { try move(pid, into: cpuset) }
        for leaf in existingOptionalLeaves(relative) { try move(pid, into: leaf) }
    }

    private func move(_ pid: pid_t, into leaf: String) throws(RuntimeError) {
        do throws(Errno) {
            try ControlFile.write(String(pid), to: leaf + "/cgroup.procs")
        } catch {
            throw CgroupErrors.system("cannot move process \(pid) into cgroup: write \(pid) to \(leaf)/cgroup.procs", error)
        }
    }

    public func events(of path: CgroupPath) throws -> CgroupEvents {
        let hierarchy = hierarchyDirectory(of: .memory)
        let file = hierarchy + (try relativeDirectory(of: path)) + "/memory.oom_control"
        do {
            return CgroupEventsParser.events(fromMemoryEvents: try ControlFile.read(file))
        } catch .noSuchFileOrDirectory {
            // Without a memory hierarchy there is no cgroup OOM killer to report on.
            if ControlFile.exists(hierarchy) { throw CgroupErrors.notFound("read the events of", path) }
            return CgroupEvents(oomKills: 0)
        } catch {
            throw CgroupErrors.system("cannot read the events of cgroup \(path): read \(file)", error)
        }
    }

    public func destroy(_ path: CgroupPath) throws {
        let relative = try relativeDirectory(of: path)
        // One deadline for all hierarchies. Killing through the first (memory) normally empties
        // the others too, since the same processes sit in each.
        let removal = CgroupRemoval(syscalls: syscalls, useKillFile: false, timeout: removalTimeout,
                                    beforeKilling: { releaseHolds(relative) })
        let components = try path.validatedComponents()
        for controller in optionalControllers ? CgroupController.everyCase : CgroupController.removedForEveryContainer {
            let hierarchy = hierarchyDirectory(of: controller)
            try removal.remove(hierarchy + relative)
            ancestors.removeMarked(components, below: hierarchy)
        }
    }

    public func releaseHolds(on path: CgroupPath) {
        guard let relative = try? relativeDirectory(of: path) else { return }
        releaseHolds(relative)
    }

    /// A v1 frozen task does not act on SIGKILL until it is thawed.
    private func releaseHolds(_ relative: String) {
        try? ControlFile.write(FreezerState.thawed, to: hierarchyDirectory(of: .freezer) + relative + "/freezer.state")
        try? ControlFile.write("-1", to: hierarchyDirectory(of: .cpu) + relative + "/cpu.cfs_quota_us")
    }

    // MARK: - Steps of create

    /// mkdir -p of `components` below `hierarchy`, which must already exist: on the tmpfs root a
    /// mkdir of the hierarchy itself would succeed and make a plain directory, not a cgroup.
    /// Returns nil when the hierarchy is missing; records the hierarchy in `createdIn` if the leaf is made here,
    /// and marks the parent levels it makes (`CgroupAncestors`). A level that vanishes between its
    /// mkdir and the next (another berth removing it as its last container ended) starts the
    /// walk again.
    func makeLeaf(_ components: [String], in hierarchy: String,
                  createdIn: inout [String]) throws(RuntimeError) -> String? {
        var attempt = 1
        walk: while true {
            var directory = hierarchy
            for (index, component) in components.enumerated() {
                directory += "/" + component
                do {
                    try syscalls.makeDirectory(directory)
                    if index == components.count - 1 { createdIn.append(hierarchy) }
                    if ancestors.marks(components, at: index) { ancestors.mark(directory) }
                } catch .fileExists {
                    continue
                } catch .noSuchFileOrDirectory where index == 0 {
                    return nil
                } catch .noSuchFileOrDirectory where attempt < CgroupAncestors.attempts {
                    attempt += 1
                    continue walk
                } catch {
                    throw CgroupErrors.system("cannot create cgroup: mkdir \(directory)", error)
                }
            }
            return directory
        }
    }

    private var ancestors: CgroupAncestors { CgroupAncestors(syscalls: syscalls) }

    func apply(_ limits: ResourceLimits, of controller: CgroupController, in leaf: String) throws(RuntimeError) {
        switch controller {
        case .memory:
            if let bytes = limits.memoryBytes { try applyMemory(String(bytes), in: leaf) }
            if let reservation = limits.memoryReservationBytes {
                try write(String(reservation), to: leaf + "/memory.soft_limit_in_bytes", for: .memory)
            }
            if let swappiness = limits.memorySwappiness {
                try write(String(swappiness), to: leaf + "/memory.swappiness", for: .memory)
            }
        case .cpu:
            if let shares = limits.cpuShares {
                try write(String(shares), to: leaf + "/cpu.shares", for: .cpu)
            }
            guard let cpu = limits.cpu else { return }
            // Period first: the kernel checks the quota against the period in force.
            try write(String(cpu.periodMicros), to: leaf + "/cpu.cfs_period_us", for: .cpu)
            try write(String(cpu.quotaMicros), to: leaf + "/cpu.cfs_quota_us", for: .cpu)
        case .pids:
            guard let pids = limits.pidsLimit else { return }
            try write(String(pids), to: leaf + "/pids.max", for: .pids)
        case .freezer, .cpuset, .blkio, .hugetlb, .netClass, .netPriority:
            return
        case .devices:
            guard let rules = limits.devices else { return }
            try applyDevices(rules, in: leaf)
        }
    }

    /// memory.limit_in_bytes, then memory.memsw.limit_in_bytes (memory + swap) at the same figure,
    /// so the container gets no swap. The kernel keeps memsw >= memory at every step: on a fresh
    /// cgroup both are unlimited and this order works; on a reused one with a lower memsw the
    /// memory write fails with EINVAL, and memsw has to go first.
    private func applyMemory(_ value: String, in leaf: String) throws(RuntimeError) {
        let memory = leaf + "/memory.limit_in_bytes"
        let memsw = leaf + "/memory.memsw.limit_in_bytes"
        do {
            try ControlFile.write(value, to: memory)
        } catch .invalidArgument {
            try writeSwapLimit(value, to: memsw)
            try write(value, to: memory, for: .memory)
            return
        } catch {
            throw CgroupErrors.limitNotApplied(.memory, value: value, file: memory, error: error)
        }
        try writeSwapLimit(value, to: memsw)
    }

    /// The memsw files exist only with swap accounting (swapaccount=1, CONFIG_MEMCG_SWAP); without
    /// it the kernel cannot tell swap from memory and the memory limit alone still holds.
    private func writeSwapLimit(_ value: String, to file: String) throws(RuntimeError) {
        do {
            try ControlFile.write(value, to: file)
        } catch .noSuchFileOrDirectory {
        } catch {
            throw CgroupErrors.limitNotApplied(.memory, value: value, file: file, error: error)
        }
    }

    func write(_ value: String, to file: String, for controller: CgroupController) throws(RuntimeError) {
        do {
            try ControlFile.write(value, to: file)
        } catch {
            throw CgroupErrors.limitNotApplied(controller, value: value, file: file, error: error)
        }
    }

    // MARK: - Paths

    /// The hierarchy's mount point. cpu is looked up among its co-mount names (one access call
    /// in the usual case, where `cpu` exists); the first name is used when none exists, so error
    /// sentences name the usual place.
    func hierarchyDirectory(of controller: CgroupController) -> String {
        let names = controller.legacyHierarchyNames
        if names.count > 1 {
            for name in names where ControlFile.exists(root + "/" + name) {
                return root + "/" + name
            }
        }
        return root + "/" + names[0]
    }

    /// "/berth/<id>", to append to a hierarchy's directory.
    func relativeDirectory(of path: CgroupPath) throws(RuntimeError) -> String {
        "/" + (try path.validatedRelative())
    }
}
