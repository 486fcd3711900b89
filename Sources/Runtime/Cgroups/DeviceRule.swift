/// What a device rule lets a process do with a device node: open it for reading or writing, or
/// create it with mknod. Written as a subset of "rwm", as the device cgroup and Docker spell it.
public struct DeviceAccess: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The bits are the kernel's BPF_DEVCG_ACC_* values, so the eBPF program compares them as they are.
    public static let mknod = DeviceAccess(rawValue: 1)
    public static let read = DeviceAccess(rawValue: 2)
    public static let write = DeviceAccess(rawValue: 4)
    public static let all: DeviceAccess = [.read, .write, .mknod]

    /// "rwm", "r", "rw"…; nil for an empty string or a letter other than r, w and m.
    public init?(_ text: some StringProtocol) {
        var access: DeviceAccess = []
        for letter in text {
            switch letter {
            case "r": access.insert(.read)
            case "w": access.insert(.write)
            case "m": access.insert(.mknod)
            default: return nil
            }
        }
        guard !access.isEmpty else { return nil }
        self = access
    }

    public var description: String {
        (contains(.read) ? "r" : "") + (contains(.write) ? "w" : "") + (contains(.mknod) ? "m" : "")
    }
}

/// One line of a container's device list (the OCI runtime spec's `linux.resources.devices`):
/// allow or deny `access` to devices of `kind` with the numbers given. Rules are read in order and
/// the last one that matches a device decides, as on the v1 device cgroup.
public struct DeviceRule: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// Every device: only with any major and minor (the v1 cgroup's `a`).
        case all = "a"
        case char = "c"
        case block = "b"
    }

    public var allow: Bool
    public var kind: Kind
    /// nil: any.
    public var major: UInt32?
    /// nil: any.
    public var minor: UInt32?
    /// For an `a` rule always every access: the v1 cgroup reads nothing after the `a`.
    public var access: DeviceAccess

    public init(allow: Bool, kind: Kind, major: UInt32? = nil, minor: UInt32? = nil, access: DeviceAccess = .all) {
        self.allow = allow
        self.kind = kind
        self.major = major
        self.minor = minor
        self.access = access
    }

    /// The largest numbers Linux gives a device (12 bits of major, 20 of minor).
    public static let largestMajor: UInt32 = (1 << 12) - 1
    public static let largestMinor: UInt32 = (1 << 20) - 1

    /// The line a v1 cgroup's devices.allow or devices.deny takes: "c 1:3 rwm", "c 136:* rwm",
    /// or "a" (every device, every access: the kernel reads nothing after the `a`).
    var v1Line: String {
        if kind == .all { return "a" }
        return "\(kind.rawValue) \(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*") \(access)"
    }

    public var description: String { (allow ? "allow " : "deny ") + v1Line }
}

extension DeviceRule {
    /// Docker's default: every device denied, then mknod of any node (opening one is what the
    /// rules guard) and the nodes every container has — null, zero, full, random, urandom, tty,
    /// console, ptmx and the container's own ptys (devpts, major 136).
    public static let containerDefault: [DeviceRule] = [
        DeviceRule(allow: false, kind: .all),
        DeviceRule(allow: true, kind: .char, access: .mknod),
        DeviceRule(allow: true, kind: .block, access: .mknod),
        DeviceRule(allow: true, kind: .char, major: 1, minor: 3),
        DeviceRule(allow: true, kind: .char, major: 1, minor: 5),
        DeviceRule(allow: true, kind: .char, major: 1, minor: 7),
        DeviceRule(allow: true, kind: .char, major: 1, minor: 8),
        DeviceRule(allow: true, kind: .char, major: 1, minor: 9),
        DeviceRule(allow: true, kind: .char, major: 5, minor: 0),
        DeviceRule(allow: true, kind: .char, major: 5, minor: 1),
        DeviceRule(allow: true, kind: .char, major: 5, minor: 2),
        DeviceRule(allow: true, kind: .char, major: 136),
    ]

    /// `--privileged`: every device, every access.
    public static let allowAll: [DeviceRule] = [DeviceRule(allow: true, kind: .all)]
}

extension Array where Element == DeviceRule {
    /// Whether the list leaves every device open: its last `a` rule allows and nothing denies
    /// after it. Such a container needs no device cgroup at all.
    var allowsEveryDevice: Bool {
        guard let last = lastIndex(where: { $0.kind == .all }), self[last].allow else { return false }
        return self[last...].allSatisfy(\.allow)
    }

    /// Refuses a rule the kernel would misread: an `a` rule with a number (v1 ignores it and would
    /// open every device), or a number larger than Linux gives a device.
    func validate() throws(RuntimeError) {
        for rule in self {
            if rule.kind == .all, rule.major != nil || rule.minor != nil {
                throw RuntimeError(.invalidArgument, "device rule \"\(rule)\" names all devices and a device number; "
                                   + "give type c or b with the number, or no number")
            }
            if let major = rule.major, major > DeviceRule.largestMajor {
                throw RuntimeError(.invalidArgument, "device rule \"\(rule)\" has major \(major), above Linux's \(DeviceRule.largestMajor)")
            }
            if let minor = rule.minor, minor > DeviceRule.largestMinor {
                throw RuntimeError(.invalidArgument, "device rule \"\(rule)\" has minor \(minor), above Linux's \(DeviceRule.largestMinor)")
            }
        }
    }
}
