/// A mount's `options` as the OCI spec and mount(8) write them, sorted into what the mount plan
/// takes: mount(2)'s flags (read in order, so a later "rw" clears an earlier "ro", as mount(8)
/// reads them), the propagation set once the mount is made, whether it is a bind (and of the
/// mounts below its source too), and what is left: the filesystem's own options, its data string.
public struct MountOptions: Sendable, Equatable {
    /// How much of a tree an option takes: the one mount, or the mounts below it too.
    public enum Depth: Sendable, Equatable {
        case top, tree
    }

    public var flags: MountFlags = []
    public var propagation: MountPropagation?
    /// "bind" (`.top`) or "rbind" (`.tree`); nil: not a bind.
    public var bind: Depth?
    /// "idmap" (`.top`) or "ridmap" (`.tree`); nil: the ids as the filesystem has them.
    public var idmap: Depth?
    /// The filesystem's own options ("size=64m", "mode=1777"), in order.
    public var data: [String] = []

    /// `destination` only names the mount in the error for an option berth does not carry out.
    public init(parsing options: [String], at destination: String) throws {
        for option in options {
            if let known = MountFlags.optionNames.first(where: { $0.name == option }) {
                flags.insert(known.flag)
            } else if let known = MountFlags.optionNames.first(where: { $0.negation == option }) {
                flags.remove(known.flag)
            } else if let known = MountPropagation(rawValue: option) {
                propagation = known
            } else if Self.recursiveAttributes.contains(option) {
                throw RuntimeError(.unsupported, "the mount at \(destination) asks for \(option), a recursive mount attribute, "
                                   + "which berth does not set: use \(option.dropFirst()), which holds for the mount itself")
            } else {
                switch option {
                case "defaults": continue
                case "bind": bind = .top
                case "rbind": bind = .tree
                case "idmap": idmap = .top
                case "ridmap": idmap = .tree
                default: data.append(option)
                }
            }
        }
    }

    /// Every option name read here rather than passed to the filesystem: `features`' mountOptions.
    public static var names: [String] {
        MountFlags.optionNames.flatMap { [$0.name, $0.negation] } + MountPropagation.allCases.map(\.rawValue)
            + ["defaults", "bind", "rbind", "idmap", "ridmap"]
    }

    /// The runtime spec's recursive attributes (mount_setattr with AT_RECURSIVE), not carried out.
    static let recursiveAttributes: Set<String> = [
        "rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec", "rnodiratime", "rdiratime",
        "rrelatime", "rnorelatime", "rnoatime", "ratime", "rstrictatime", "rnostrictatime", "rnosymfollow", "rsymfollow",
    ]
}
