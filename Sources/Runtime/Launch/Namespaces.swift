import CSpawn

/// The Linux namespaces a container gets. The cgroup namespace is special: it is created by
/// the child once it is inside its cgroup (see CSpawn), not at clone time.
public struct NamespaceSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let mount = NamespaceSet(rawValue: 1 << 0)
    public static let pid = NamespaceSet(rawValue: 1 << 1)
    public static let uts = NamespaceSet(rawValue: 1 << 2)
    public static let ipc = NamespaceSet(rawValue: 1 << 3)
    public static let network = NamespaceSet(rawValue: 1 << 4)
    public static let cgroup = NamespaceSet(rawValue: 1 << 5)

    /// Docker's default: everything but the user namespace.
    public static let containerDefault: NamespaceSet = [.mount, .pid, .uts, .ipc, .network, .cgroup]

    /// The CLONE_NEW* flags for clone, without CLONE_NEWCGROUP.
    var cloneFlags: UInt {
        var flags: UInt = 0
        if contains(.mount) { flags |= berth_clone_newns }
        if contains(.pid) { flags |= berth_clone_newpid }
        if contains(.uts) { flags |= berth_clone_newuts }
        if contains(.ipc) { flags |= berth_clone_newipc }
        if contains(.network) { flags |= berth_clone_newnet }
        return flags
    }

    /// The CLONE_NEW* flags of every namespace in the set, for setns (berth exec).
    var setnsFlags: UInt {
        cloneFlags | (contains(.cgroup) ? berth_clone_newcgroup : 0)
    }
}
