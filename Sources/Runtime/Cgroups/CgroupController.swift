/// The cgroup controllers berth uses, in the order it sets them up.
enum CgroupController: String, CaseIterable, Sendable {
    case memory
    case cpu
    case pids
    /// v1 only, for pause: on v2 every cgroup but the root has `cgroup.freeze`, no controller needed.
    case freezer

    /// The controllers a v2 cgroup can have enabled in its parent's cgroup.subtree_control.
    static let unifiedCases: [CgroupController] = [.memory, .cpu, .pids]

    /// How error sentences name the limit this controller enforces.
    var limitName: String {
        switch self {
        case .memory: "memory limit"
        case .cpu: "CPU limit"
        case .pids: "pids limit"
        case .freezer: "freezer"
        }
    }

    /// Directories under a v1 root that may hold this controller's hierarchy. cpu is often
    /// co-mounted with cpuacct as `cpu,cpuacct`; most distributions add a `cpu` symlink, some don't.
    var legacyHierarchyNames: [String] {
        switch self {
        case .memory: ["memory"]
        case .cpu: ["cpu", "cpu,cpuacct", "cpuacct,cpu"]
        case .pids: ["pids"]
        case .freezer: ["freezer"]
        }
    }
}

extension ResourceLimits {
    /// The controllers without which one of the requested limits cannot be applied.
    var requiredControllers: [CgroupController] {
        CgroupController.allCases.filter(requires)
    }

    func requires(_ controller: CgroupController) -> Bool {
        switch controller {
        case .memory: memoryBytes != nil
        case .cpu: cpu != nil
        case .pids: pidsLimit != nil
        case .freezer: false
        }
    }

    /// Rejects values the kernel would misread (a negative figure in pids.max is not "unlimited")
    /// before anything is created on disk.
    func validate() throws(RuntimeError) {
        if let memoryBytes, memoryBytes <= 0 {
            throw RuntimeError(.invalidArgument, "memory limit must be a positive number of bytes, not \(memoryBytes)")
        }
        if let cpu, cpu.quotaMicros <= 0 || cpu.periodMicros <= 0 {
            throw RuntimeError(.invalidArgument,
                               "CPU limit must be a positive quota and period, not \(cpu.quotaMicros) µs per \(cpu.periodMicros) µs")
        }
        if let pidsLimit, pidsLimit <= 0 {
            throw RuntimeError(.invalidArgument, "pids limit must be positive, not \(pidsLimit)")
        }
    }
}
