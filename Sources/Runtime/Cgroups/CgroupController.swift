/// The cgroup controllers berth uses, in the order it sets them up.
enum CgroupController: String, CaseIterable, Sendable {
    /// Every container's controllers. cpuset is not among them: it is set up only for a
    /// container that asks for CPUs or memory nodes (`CgroupV1Driver+Cpuset`), so the others
    /// pay nothing for it.
    static let allCases: [CgroupController] = [.memory, .cpu, .pids, .freezer, .devices]

    case memory
    case cpu
    case pids
    /// v1 only, for pause: on v2 every cgroup but the root has `cgroup.freeze`, no controller needed.
    case freezer
    /// v1 only: on v2 a device list is an eBPF program attached to the cgroup, no controller.
    case devices
    /// Only when asked for: `ResourceLimits.cpuset`.
    case cpuset
    /// Only when asked for, as the three below (`optionalCases`): `ResourceLimits.blockIO`.
    case blkio
    case hugetlb
    case netClass = "net_cls"
    case netPriority = "net_prio"

    /// The controllers only an OCI spec's limits ask for: made only for a container that needs
    /// them, and looked for by exec and destroy only in berth-oci's driver.
    static let optionalCases: [CgroupController] = [.blkio, .hugetlb, .netClass, .netPriority]

    /// Every controller a container's cgroup can be in, optional ones last; computed once, as the
    /// others below, so that creating a cgroup builds no lists.
    static let everyCase: [CgroupController] = allCases + [.cpuset] + optionalCases
    /// Where destroy looks for every container (cpuset: one rmdir that finds nothing for one
    /// that did not ask for it).
    static let removedForEveryContainer: [CgroupController] = allCases + [.cpuset]
    /// The v2 controllers enabled only for a container whose limits need them.
    static let unifiedOnRequest: [CgroupController] = [.cpuset, .blkio, .hugetlb]
    /// The v2 controllers berth enables.
    static let unifiedPlaced: [CgroupController] = unifiedCases + unifiedOnRequest

    /// The name in a v2 cgroup.controllers (v1's blkio is v2's io).
    var unifiedName: String { self == .blkio ? "io" : rawValue }

    /// The v2 controller a control file ("memory.high") belongs to; nil for the core files
    /// (cgroup.*) and controllers berth does not enable.
    static func ofUnifiedFile(_ name: String) -> CgroupController? {
        guard let dot = name.firstIndex(of: ".") else { return nil }
        let prefix = name[..<dot]
        return unifiedPlaced.first { $0.unifiedName == prefix }
    }

    /// How error sentences name the limit this controller enforces.
    var limitName: String {
        switch self {
        case .memory: "memory limit"
        case .cpu: "CPU limit"
        case .pids: "pids limit"
        case .freezer: "freezer"
        case .devices: "device list"
        case .cpuset: "cpuset (CPUs and memory nodes)"
        case .blkio: "block I/O limit"
        case .hugetlb: "hugepage limit"
        case .netClass: "network class id"
        case .netPriority: "network interface priorities"
        }
    }

    /// What an error sentence tells the user to do when this controller's limit cannot be applied.
    var withoutLimit: String {
        self == .devices ? "run with --privileged (which opens every device)" : "run without a \(limitName)"
    }

    /// The controllers a v2 cgroup can have enabled in its parent's cgroup.subtree_control.
    static let unifiedCases: [CgroupController] = [.memory, .cpu, .pids]

    /// Directories under a v1 root that may hold this controller's hierarchy. cpu is often
    /// co-mounted with cpuacct as `cpu,cpuacct`; most distributions add a `cpu` symlink, some don't.
    var legacyHierarchyNames: [String] {
        switch self {
        case .memory: ["memory"]
        case .cpu: ["cpu", "cpu,cpuacct", "cpuacct,cpu"]
        case .pids: ["pids"]
        case .freezer: ["freezer"]
        case .devices: ["devices"]
        case .cpuset: ["cpuset"]
        case .blkio: ["blkio"]
        case .hugetlb: ["hugetlb"]
        case .netClass: ["net_cls", "net_cls,net_prio", "net_prio,net_cls"]
        case .netPriority: ["net_prio", "net_cls,net_prio", "net_prio,net_cls"]
        }
    }
}

extension ResourceLimits {
    /// The controllers without which one of the requested limits cannot be applied.
    var requiredControllers: [CgroupController] {
        CgroupController.everyCase.filter(requires)
    }

    func requires(_ controller: CgroupController) -> Bool {
        switch controller {
        case .memory: memoryBytes != nil || memoryReservationBytes != nil || memorySwappiness != nil
        case .cpu: cpu != nil || cpuShares != nil
        case .pids: pidsLimit != nil
        case .freezer: false
        // A list that opens every device needs no device cgroup; any other must be enforced.
        case .devices: devices.map { !$0.allowsEveryDevice } ?? false
        case .cpuset: cpuset != nil
        case .blkio: blockIO != nil
        case .hugetlb: !hugepageLimits.isEmpty
        case .netClass: network?.classID != nil
        case .netPriority: !(network?.priorities ?? []).isEmpty
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
        if let cpuShares, !(2...262_144).contains(cpuShares) {
            throw RuntimeError(.invalidArgument, "CPU shares must be between 2 and 262144, not \(cpuShares)")
        }
        if let memoryReservationBytes, memoryReservationBytes < 0 {
            throw RuntimeError(.invalidArgument, "memory reservation must be 0 or more bytes, not \(memoryReservationBytes)")
        }
        if let memorySwappiness, memorySwappiness > 100 {
            throw RuntimeError(.invalidArgument, "memory swappiness must be between 0 and 100, not \(memorySwappiness)")
        }
        try cpuset?.validate()
        if let pidsLimit, pidsLimit <= 0 {
            throw RuntimeError(.invalidArgument, "pids limit must be positive, not \(pidsLimit)")
        }
        try devices?.validate()
        // Both become part of a control file's path or line: a "/" or a blank must not.
        for limit in hugepageLimits where !Self.isPageSize(limit.pageSize) {
            throw RuntimeError(.invalidArgument, "hugepage limit's page size \"\(limit.pageSize)\" is not a size such as 2MB or 1GB")
        }
        for priority in network?.priorities ?? []
        where priority.name.isEmpty || priority.name.utf8.count > 15 || priority.name.contains(where: { $0.isWhitespace || $0 == "/" }) {
            throw RuntimeError(.invalidArgument, "network priority's interface name \"\(priority.name)\" is not an interface name")
        }
    }

    /// "2MB", "1GB", "64KB": the names the hugetlb controller's files use.
    static func isPageSize(_ size: String) -> Bool {
        guard let unit = ["KB", "MB", "GB"].first(where: size.hasSuffix) else { return false }
        let digits = size.dropLast(unit.count)
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
