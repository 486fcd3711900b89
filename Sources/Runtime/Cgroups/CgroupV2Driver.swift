#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// The driver for pure cgroup v2 hosts: one hierarchy at `root` with every controller in it.
///
/// `create` returns the leaf's directory fd, so clone3's CLONE_INTO_CGROUP can start the child
/// inside its cgroup; `attach` is the fallback when clone3 is not available.
public struct CgroupV2Driver: CgroupDriver {
    public var mode: CgroupMode { .unified }
    /// The cgroup2 mount point.
    public let root: String
    let syscalls: CgroupSyscalls
    /// How long `destroy` waits for killed processes to leave before it gives up.
    let removalTimeout: Duration
    /// How long `freeze` waits for every process to freeze before it thaws them and gives up.
    let freezeTimeout: Duration

    public init(root: String = CgroupModeDetector.defaultRoot) {
        self.init(root: root, syscalls: .live, removalTimeout: .seconds(1))
    }

    init(root: String, syscalls: CgroupSyscalls, removalTimeout: Duration, freezeTimeout: Duration = CgroupFreezing.timeout) {
        self.root = root
        self.syscalls = syscalls
        self.removalTimeout = removalTimeout
        self.freezeTimeout = freezeTimeout
    }

    public func create(_ path: CgroupPath, limits: ResourceLimits) throws -> CgroupPlacement {
        let components = try path.validatedComponents()
        try limits.validate()
        let controllers = try controllersToEnable(for: limits)

        let (leaf, created) = try makeLeaf(components, delegating: controllers)
        do {
            try apply(limits, in: leaf)
            let fd = try openDirectory(leaf)
            do {
                // Before the clone: the child starts in this cgroup with its device program in force.
                if let rules = limits.devices { try attachDevices(rules, to: fd, leaf: leaf) }
            } catch {
                close(fd)
                throw error
            }
            // A child cloned straight into a cpuset cgroup (CLONE_INTO_CGROUP) kept its parent's
            // CPUs on kernels without 2023's cpuset fork fix (Linux 6.3, backported unevenly);
            // one attached with cgroup.procs gets the cpuset's on every kernel. Only a container
            // that asks for a cpuset pays for the attach.
            if limits.cpuset != nil {
                close(fd)
                return CgroupPlacement(directoryFD: nil)
            }
            return CgroupPlacement(directoryFD: fd)
        } catch {
            // Only a leaf this call made is ours to take back (with the parent levels made for
            // it); a stale one left by a crash belongs to the crash-recovery path.
            if created {
                try? syscalls.removeDirectory(leaf)
                ancestors.removeMarked(components, below: root)
            }
            throw error
        }
    }

    public func placement(joining path: CgroupPath) throws -> CgroupPlacement {
        let leaf = try directory(of: path)
        guard ControlFile.exists(leaf) else { throw CgroupErrors.notFound("join", path) }
        // A container with its own CPUs: attached by the parent, as `create` explains.
        if let cpus = try? ControlFile.read(leaf + "/cpuset.cpus"), !cpus.allSatisfy(\.isWhitespace) {
            return CgroupPlacement(directoryFD: nil)
        }
        return CgroupPlacement(directoryFD: try openDirectory(leaf))
    }

    public func attach(pid: pid_t, to path: CgroupPath) throws {
        let leaf = try directory(of: path)
        do {
            try ControlFile.write(String(pid), to: leaf + "/cgroup.procs")
        } catch .noSuchFileOrDirectory {
            throw CgroupErrors.notFound("move process \(pid) into", path)
        } catch {
            throw CgroupErrors.system("cannot move process \(pid) into cgroup: write \(pid) to \(leaf)/cgroup.procs", error)
        }
    }

    public func events(of path: CgroupPath) throws -> CgroupEvents {
        let leaf = try directory(of: path)
        do {
            // memory.events counts the whole subtree, so kills in child cgroups are included.
            return CgroupEventsParser.events(fromMemoryEvents: try ControlFile.read(leaf + "/memory.events"))
        } catch .noSuchFileOrDirectory {
            // Without the memory controller there is no OOM killer of its own to report on.
            guard ControlFile.exists(leaf) else { throw CgroupErrors.notFound("read the events of", path) }
            return CgroupEvents(oomKills: 0)
        } catch {
            throw CgroupErrors.system("cannot read the events of cgroup \(path): read \(leaf)/memory.events", error)
        }
    }

    public func destroy(_ path: CgroupPath) throws {
        let leaf = try directory(of: path)
        try CgroupRemoval(syscalls: syscalls, useKillFile: true, timeout: removalTimeout,
                          beforeKilling: { releaseHolds(leaf) }).remove(leaf)
        ancestors.removeMarked(try path.validatedComponents(), below: root)
    }

    public func releaseHolds(on path: CgroupPath) {
        guard let leaf = try? directory(of: path) else { return }
        releaseHolds(leaf)
    }

    /// SIGKILL ends a v2 frozen task; only the quota holds a dying one back.
    private func releaseHolds(_ leaf: String) {
        try? ControlFile.write("max", to: leaf + "/cpu.max")
    }

    // MARK: - Steps of create

    /// Makes the leaf and any missing level above it, delegating `controllers` at every level.
    /// Delegation goes top-down: each level's cgroup.subtree_control hands the controllers to
    /// the level below. Only the leaf ever holds processes (the kernel's no-internal-process
    /// rule refuses controllers to a cgroup with processes in it). Ancestors may be shared by
    /// concurrent containers: the levels made here are marked, and removed with the last
    /// container below them (`CgroupAncestors`). A level that vanishes during the walk (another
    /// berth removing it as its last container ended) starts the walk again.
    /// Returns the leaf and whether this call made it.
    private func makeLeaf(_ components: [String],
                          delegating controllers: [CgroupController]) throws(RuntimeError) -> (String, Bool) {
        var attempt = 1
        while true {
            do throws(RuntimeError) {
                var directory = root
                for (index, component) in components.dropLast().enumerated() {
                    try enable(controllers, below: directory)
                    directory += "/" + component
                    if try makeDirectory(directory), ancestors.marks(components, at: index) { ancestors.mark(directory) }
                }
                try enable(controllers, below: directory)
                let leaf = directory + "/" + components[components.count - 1]
                return (leaf, try makeDirectory(leaf))
            } catch let error where error.errno == ENOENT && attempt < CgroupAncestors.attempts {
                attempt += 1
            }
        }
    }

    private var ancestors: CgroupAncestors { CgroupAncestors(syscalls: syscalls) }

    /// The controllers to hand down to the new cgroup. Every requested limit's controller must be
    /// available; memory and pids are added when available so OOM kills and task counts are
    /// accounted for every container. cpu is enabled only for a CPU limit: it is the one the kernel
    /// may refuse (real-time tasks outside the root with RT group scheduling), and cpu.stat is
    /// there without it.
    func controllersToEnable(for limits: ResourceLimits) throws(RuntimeError) -> [CgroupController] {
        let file = root + "/cgroup.controllers"
        let available: [Substring]
        do {
            available = ControlFile.words(try ControlFile.read(file))
        } catch .noSuchFileOrDirectory {
            throw RuntimeError(.unsupported, "cannot create a cgroup: \(root) is not a cgroup v2 hierarchy (it has no cgroup.controllers)")
        } catch {
            throw CgroupErrors.system("cannot create a cgroup: read \(file)", error)
        }
        for controller in limits.requiredControllers
        where CgroupController.unifiedPlaced.contains(controller) && !available.contains(Substring(controller.unifiedName)) {
            throw RuntimeError(
                .unsupported,
                "cannot set \(controller.limitName): the \(controller.unifiedName) cgroup controller is not available "
                    + "(\(file) lists: \(available.joined(separator: " "))); enable it in the kernel "
                    + "(it may be disabled on the kernel command line) or \(controller.withoutLimit)")
        }
        // cpuset, io and hugetlb only when asked for: a new cgroup is not limited by them anyway.
        var controllers = CgroupController.unifiedCases.filter { controller in
            limits.requires(controller)
                || (controller != .cpu && available.contains(Substring(controller.unifiedName)))
        } + CgroupController.unifiedOnRequest.filter(limits.requires)
        // An OCI spec's unified files need their controllers, which must be available.
        for key in limits.unified.keys.sorted() {
            let known = CgroupController.ofUnifiedFile(key)
            guard let known, !key.contains("/"), available.contains(Substring(known.unifiedName)) else {
                throw RuntimeError(.invalidArgument, "cannot write the cgroup file \(key) (linux.resources.unified): it is not "
                                   + "a file of a cgroup controller berth enables and this host has (\(file) lists: "
                                   + "\(available.joined(separator: " "))); give a controller's file such as memory.high")
            }
            if !controllers.contains(known) { controllers.append(known) }
        }
        return controllers
    }

    /// Enables `controllers` for the children of `directory`. Reads first: the usual case is
    /// that they are already on (systemd, an earlier container), and a write takes the kernel's
    /// global cgroup lock even when it changes nothing.
    func enable(_ controllers: [CgroupController], below directory: String) throws(RuntimeError) {
        let file = directory + "/cgroup.subtree_control"
        let enabled: [Substring]
        do {
            enabled = ControlFile.words(try ControlFile.read(file))
        } catch {
            throw CgroupErrors.system("cannot delegate cgroup controllers: read \(file)", error)
        }
        let missing = controllers.filter { !enabled.contains(Substring($0.unifiedName)) }
        guard !missing.isEmpty else { return }
        // One write: the kernel applies all or none of the tokens.
        let value = missing.map { "+" + $0.unifiedName }.joined(separator: " ")
        do {
            try ControlFile.write(value, to: file)
        } catch {
            throw CgroupErrors.system("cannot delegate cgroup controllers: write \(value) to \(file)", error)
        }
    }

    /// mkdir; an existing directory is fine. Returns whether this call created it.
    @discardableResult
    private func makeDirectory(_ directory: String) throws(RuntimeError) -> Bool {
        do {
            try syscalls.makeDirectory(directory)
            return true
        } catch .fileExists {
            return false
        } catch {
            throw CgroupErrors.system("cannot create cgroup: mkdir \(directory)", error)
        }
    }

    func apply(_ limits: ResourceLimits, in leaf: String) throws(RuntimeError) {
        if let bytes = limits.memoryBytes {
            try write(String(bytes), to: leaf + "/memory.max", for: .memory)
            // memory.swap.max counts swap alone, so 0 keeps the container at `bytes` in total.
            // The file is missing when the kernel does no swap accounting: then there is no swap
            // use to limit, and the memory limit still holds.
            do {
                try ControlFile.write("0", to: leaf + "/memory.swap.max")
            } catch .noSuchFileOrDirectory {
            } catch {
                throw CgroupErrors.limitNotApplied(.memory, value: "0", file: leaf + "/memory.swap.max", error: error)
            }
        }
        // Swappiness has no v2 file: it is left out here (berth-oci warns, as runc does).
        if let reservation = limits.memoryReservationBytes {
            try write(String(reservation), to: leaf + "/memory.low", for: .memory)
        }
        if let cpus = limits.cpuset?.cpus {
            try write(cpus, to: leaf + "/cpuset.cpus", for: .cpuset)
        }
        if let mems = limits.cpuset?.mems {
            try write(mems, to: leaf + "/cpuset.mems", for: .cpuset)
        }
        if let shares = limits.cpuShares {
            try write(String(ResourceLimits.cpuWeight(shares: shares)), to: leaf + "/cpu.weight", for: .cpu)
        }
        if let cpu = limits.cpu {
            try write("\(cpu.quotaMicros) \(cpu.periodMicros)", to: leaf + "/cpu.max", for: .cpu)
        }
        if let pids = limits.pidsLimit {
            try write(String(pids), to: leaf + "/pids.max", for: .pids)
        }
        try applyBlockIO(limits.blockIO, in: leaf)
        for limit in limits.hugepageLimits {
            try write(String(limit.limit), to: leaf + "/hugetlb.\(limit.pageSize).max", for: .hugetlb)
        }
        // Last, so that a file given here wins over the same setting made above, as runc has it.
        for (key, value) in limits.unified.sorted(by: { $0.key < $1.key }) {
            do {
                try ControlFile.write(value, to: leaf + "/" + key)
            } catch .noSuchFileOrDirectory {
                throw RuntimeError(.invalidArgument, "cannot write the cgroup file \(key) (linux.resources.unified): "
                                   + "\(leaf) has no such file; give a file its controller has, such as memory.high")
            } catch {
                throw CgroupErrors.system("cannot write \(value) to the cgroup file \(leaf)/\(key) (linux.resources.unified)", error)
            }
        }
    }

    /// io.weight (the spec's 10…1000 scaled to 1…10000, as runc scales it; per device too) and
    /// io.max, one "MAJOR:MINOR KEY=VALUE" a write. v2 has no leaf weight.
    private func applyBlockIO(_ blockIO: OCIRuntimeSpec.Linux.BlockIO?, in leaf: String) throws(RuntimeError) {
        guard let blockIO else { return }
        func scaled(_ weight: UInt16) -> UInt64 { 1 + (UInt64(min(max(weight, 10), 1000)) - 10) * 9_999 / 990 }
        if let weight = blockIO.weight { try write("default \(scaled(weight))", to: leaf + "/io.weight", for: .blkio) }
        for device in blockIO.weightDevice ?? [] {
            guard let weight = device.weight else { continue }
            try write("\(device.major):\(device.minor) \(scaled(weight))", to: leaf + "/io.weight", for: .blkio)
        }
        for (key, throttles) in [("rbps", blockIO.throttleReadBpsDevice), ("wbps", blockIO.throttleWriteBpsDevice),
                                 ("riops", blockIO.throttleReadIOPSDevice), ("wiops", blockIO.throttleWriteIOPSDevice)] {
            for throttle in throttles ?? [] {
                try write("\(throttle.major):\(throttle.minor) \(key)=\(throttle.rate)", to: leaf + "/io.max", for: .blkio)
            }
        }
    }

    private func write(_ value: String, to file: String, for controller: CgroupController) throws(RuntimeError) {
        do {
            try ControlFile.write(value, to: file)
        } catch {
            throw CgroupErrors.limitNotApplied(controller, value: value, file: file, error: error)
        }
    }

    /// The fd clone3 takes for CLONE_INTO_CGROUP. Close-on-exec, so it never leaks into the
    /// container's process.
    private func openDirectory(_ leaf: String) throws(RuntimeError) -> Int32 {
        let fd = open(leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            let err = errno
            throw RuntimeError.system("cannot open cgroup \(leaf)", errno: err)
        }
        return fd
    }

    func directory(of path: CgroupPath) throws(RuntimeError) -> String {
        root + "/" + (try path.validatedRelative())
    }
}
