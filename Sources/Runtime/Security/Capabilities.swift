import CLibcap

/// A set of Linux capabilities as a bitmask: bit n is capability n (CAP_CHOWN = 0, …).
public struct CapabilitySet: Sendable, Equatable, Hashable {
    public var bits: UInt64

    public init(bits: UInt64) { self.bits = bits }

    /// Parses names such as "CAP_NET_ADMIN", "net_admin" or "ALL" (every capability the running
    /// kernel knows). Throws `RuntimeError(.invalidArgument)` naming the unknown capability.
    public init(names: [String]) throws {
        var bits: UInt64 = 0
        for name in names {
            bits |= try CapabilityNames.parse(name).bits
        }
        self.bits = bits
    }

    /// The canonical names ("CAP_CHOWN", …), lowest bit first.
    public var names: [String] {
        (0..<64).filter { bits & (1 << UInt64($0)) != 0 }.map { CapabilityNames.table[$0] }
    }

    /// Docker's default set for containers (CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW,
    /// SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE).
    public static var containerDefault: CapabilitySet {
        // The numbers are kernel ABI (linux/capability.h), so the constants are safe to use directly.
        let numbers = [
            CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW,
            CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE,
            CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
        ]
        return CapabilitySet(bits: numbers.reduce(0) { $0 | (1 << UInt64($1)) })
    }

    /// Every capability the running kernel supports (0 … /proc/sys/kernel/cap_last_cap).
    public static var all: CapabilitySet { CapabilitySet(bits: CapabilityNames.kernelMask) }
}

/// The five capability sets of the container's process, computed in the parent and applied by
/// the child with raw capset/prctl calls.
public struct ProcessCapabilities: Sendable, Equatable {
    public var bounding: CapabilitySet
    public var effective: CapabilitySet
    public var permitted: CapabilitySet
    public var inheritable: CapabilitySet
    public var ambient: CapabilitySet

    public init(bounding: CapabilitySet, effective: CapabilitySet, permitted: CapabilitySet,
                inheritable: CapabilitySet, ambient: CapabilitySet) {
        self.bounding = bounding
        self.effective = effective
        self.permitted = permitted
        self.inheritable = inheritable
        self.ambient = ambient
    }

    /// What Docker gives a process running as `uid` with the bounding set `set`: root gets the set
    /// as bounding, effective and permitted; any other uid gets it as bounding only.
    /// Inheritable and ambient stay empty (CVE-2022-24769).
    public static func forUser(uid: UInt32, set: CapabilitySet) -> ProcessCapabilities {
        let granted = uid == 0 ? set : .empty
        return ProcessCapabilities(bounding: set, effective: granted, permitted: granted,
                                   inheritable: .empty, ambient: .empty)
    }
}
