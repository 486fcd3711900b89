/// A mount's `options` as the OCI spec and mount(8) write them, sorted into what the mount plan
/// takes: mount(2)'s flags (read in order, so a later "rw" clears an earlier "ro", as mount(8)
/// reads them), the propagation set once the mount is made, whether it is a bind (and of the
/// mounts below its source too), the attributes set on the mount's whole tree once it is made,
/// runc's "tmpcopyup", and what is left: the filesystem's own options, its data string.
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
    /// "rro", "rnosuid", ...: set with mount_setattr(AT_RECURSIVE) once the mount is made.
    public var treeAttributes = RecursiveMountAttributes()
    /// "tmpcopyup" (runc's, for a tmpfs): the tmpfs starts with a copy of what it covers.
    public var copyUp = false
    /// The filesystem's own options ("size=64m", "mode=1777"), in order.
    public var data: [String] = []

    public init(parsing options: [String]) {
        for option in options {
            if let known = MountFlags.optionNames.first(where: { $0.name == option }) {
                flags.insert(known.flag)
            } else if let known = MountFlags.optionNames.first(where: { $0.negation == option }) {
                flags.remove(known.flag)
            } else if let known = MountPropagation(rawValue: option) {
                propagation = known
            } else if treeAttributes.read(option) {
                continue
            } else {
                switch option {
                case "defaults": continue
                case "bind": bind = .top
                case "rbind": bind = .tree
                case "idmap": idmap = .top
                case "ridmap": idmap = .tree
                case "tmpcopyup": copyUp = true
                default: data.append(option)
                }
            }
        }
    }

    /// Every option name read here rather than passed to the filesystem: `features`' mountOptions.
    public static var names: [String] {
        MountFlags.optionNames.flatMap { [$0.name, $0.negation] } + MountPropagation.allCases.map(\.rawValue)
            + ["defaults", "bind", "rbind", "idmap", "ridmap", "tmpcopyup"] + RecursiveMountAttributes.names
    }
}
