/// Attributes set on a mount and on every mount below it once it is made: mount_setattr(2) with
/// AT_RECURSIVE, as the runtime spec's "rro", "rnosuid", ... options ask (runc 1.1 and later).
/// Where "ro" on an rbind leaves the submounts it brought along writable, "rro" reaches them.
public struct RecursiveMountAttributes: Sendable, Equatable {
    /// MOUNT_ATTR_* bits set, and bits cleared (mount_setattr's attr_set and attr_clr).
    public private(set) var setting: UInt64 = 0
    public private(set) var clearing: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { setting == 0 && clearing == 0 }

    /// The on-or-off attributes (values from <linux/mount.h>), each with the option that sets it
    /// and the one that clears it.
    static let toggles: [(attribute: UInt64, name: String, negation: String)] = [
        (0x1, "rro", "rrw"), (0x2, "rnosuid", "rsuid"), (0x4, "rnodev", "rdev"), (0x8, "rnoexec", "rexec"),
        (0x80, "rnodiratime", "rdiratime"), (0x20_0000, "rnosymfollow", "rsymfollow"),
    ]

    /// MOUNT_ATTR__ATIME: the atime mode is one value of these bits, not a set of flags.
    static let atimeBits: UInt64 = 0x70

    /// The atime modes and the options that choose each. The kernel takes a mode only with the
    /// whole field cleared, so an option that turns a mode off ("ratime", "rnostrictatime",
    /// "rnorelatime") chooses the kernel's default, relatime, as mount(2) without the flag does.
    static let atimeModes: [(mode: UInt64, names: [String])] = [
        (0x0, ["rrelatime", "ratime", "rnostrictatime", "rnorelatime"]), (0x10, ["rnoatime"]), (0x20, ["rstrictatime"]),
    ]

    /// Every option read here, for `features`' mountOptions.
    public static var names: [String] {
        toggles.flatMap { [$0.name, $0.negation] } + atimeModes.flatMap(\.names)
    }

    /// Reads one option; false when it is not a recursive attribute. A later option overrides an
    /// earlier one, as mount(8) reads "ro,rw".
    public mutating func read(_ option: String) -> Bool {
        if let toggle = Self.toggles.first(where: { $0.name == option || $0.negation == option }) {
            if toggle.name == option {
                setting |= toggle.attribute
                clearing &= ~toggle.attribute
            } else {
                clearing |= toggle.attribute
                setting &= ~toggle.attribute
            }
            return true
        }
        guard let atime = Self.atimeModes.first(where: { $0.names.contains(option) }) else { return false }
        setting = (setting & ~Self.atimeBits) | atime.mode
        clearing |= Self.atimeBits
        return true
    }

    /// The options that give these attributes, one per attribute (the spec's form, for a launch spec).
    public var options: [String] {
        var names = Self.toggles.compactMap { toggle -> String? in
            if setting & toggle.attribute != 0 { return toggle.name }
            return clearing & toggle.attribute != 0 ? toggle.negation : nil
        }
        if clearing & Self.atimeBits != 0, let atime = Self.atimeModes.first(where: { $0.mode == setting & Self.atimeBits }) {
            names.append(atime.names[0])
        }
        return names
    }
}
