import CSpawn

/// mount(2) flags used by the plan (values from <sys/mount.h>).
public struct MountFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }

    public static let readOnly = MountFlags(rawValue: 0x1)      // MS_RDONLY
    public static let noSuid = MountFlags(rawValue: 0x2)        // MS_NOSUID
    public static let noDev = MountFlags(rawValue: 0x4)         // MS_NODEV
    public static let noExec = MountFlags(rawValue: 0x8)        // MS_NOEXEC
    public static let synchronous = MountFlags(rawValue: 0x10)  // MS_SYNCHRONOUS
    public static let mandatoryLocks = MountFlags(rawValue: 0x40) // MS_MANDLOCK
    public static let directoriesSynchronous = MountFlags(rawValue: 0x80) // MS_DIRSYNC
    public static let noSymlinkFollow = MountFlags(rawValue: 0x100) // MS_NOSYMFOLLOW
    public static let noAtime = MountFlags(rawValue: 0x400)     // MS_NOATIME
    public static let noDirectoryAtime = MountFlags(rawValue: 0x800) // MS_NODIRATIME
    public static let silent = MountFlags(rawValue: 0x8000)     // MS_SILENT
    public static let relativeAtime = MountFlags(rawValue: 1 << 21) // MS_RELATIME
    public static let strictAtime = MountFlags(rawValue: 1 << 24) // MS_STRICTATIME
    public static let lazyTime = MountFlags(rawValue: 1 << 25)  // MS_LAZYTIME
    // Propagation, set on a bind after it is made (never on the container's other mounts).
    public static let recursive = MountFlags(rawValue: 0x4000)          // MS_REC
    public static let propagationUnbindable = MountFlags(rawValue: 1 << 17) // MS_UNBINDABLE
    public static let propagationPrivate = MountFlags(rawValue: 1 << 18) // MS_PRIVATE
    public static let propagationSlave = MountFlags(rawValue: 1 << 19)   // MS_SLAVE
    public static let propagationShared = MountFlags(rawValue: 1 << 20)  // MS_SHARED

    /// The names of the flags, as mount(8) and the OCI spec's options write them, each with the
    /// name that clears it again ("rw" after "ro").
    public static let optionNames: [(flag: MountFlags, name: String, negation: String)] = [
        (.readOnly, "ro", "rw"), (.noSuid, "nosuid", "suid"), (.noDev, "nodev", "dev"), (.noExec, "noexec", "exec"),
        (.synchronous, "sync", "async"), (.mandatoryLocks, "mand", "nomand"), (.directoriesSynchronous, "dirsync", "nodirsync"),
        (.noSymlinkFollow, "nosymfollow", "symfollow"), (.noAtime, "noatime", "atime"),
        (.noDirectoryAtime, "nodiratime", "diratime"), (.silent, "silent", "loud"),
        (.relativeAtime, "relatime", "norelatime"), (.strictAtime, "strictatime", "nostrictatime"),
        (.lazyTime, "lazytime", "nolazytime"),
    ]

    var names: [String] {
        var names = Self.optionNames.compactMap { contains($0.flag) ? $0.name : nil }
        if let propagation = MountPropagation.allCases.first(where: { $0.flags == intersection(.propagation) }) {
            names.append(propagation.rawValue)
        }
        return names
    }

    static let propagation: MountFlags = [.recursive, .propagationPrivate, .propagationSlave, .propagationShared,
                                          .propagationUnbindable]
}

/// One step of a container's filesystem setup, run in order by the child (bubblewrap's idea:
/// the plan is data, so `--debug` can print it and tests can assert it without root).
public struct MountOperation: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A filesystem of `fstype` from `source` (proc, sysfs, tmpfs, devpts, mqueue, cgroup2).
        case mount(fstype: String, source: String, data: String?)
        /// A host path bound onto the target: with `recursive`, the mounts below it too ("rbind");
        /// with `idmap`, as an idmapped mount the parent makes.
        case bind(source: String, recursive: Bool = true, idmap: MountIDMap? = nil)
        /// A character (or `block`) device node; `hostPath`, when given, is bound instead where mknod
        /// is not allowed.
        case device(major: UInt32, minor: UInt32, mode: UInt32, hostPath: String?, block: Bool = false)
        /// A symbolic link at the target pointing to `to`.
        case symlink(to: String)
        /// Hide the target (/dev/null over a file, an empty read-only tmpfs over a directory).
        case mask
        /// Make the target read-only.
        case readOnly
    }

    public var kind: Kind
    /// Absolute path inside the container.
    public var target: String
    public var flags: MountFlags
    /// Failure is ignored (a kernel without mqueue, say).
    public var optional: Bool
    /// `.mount` and `.bind`: set on the new mount and every mount below it once it is made.
    public var treeAttributes: RecursiveMountAttributes
    /// `.mount`: the filesystem starts with a copy of the directory it covers (a tmpfs's "tmpcopyup").
    public var copyUp: Bool

    public init(_ kind: Kind, target: String, flags: MountFlags = [], optional: Bool = false,
                treeAttributes: RecursiveMountAttributes = .init(), copyUp: Bool = false) {
        self.kind = kind
        self.target = target
        self.flags = flags
        self.optional = optional
        self.treeAttributes = treeAttributes
        self.copyUp = copyUp
    }

    public var description: String {
        let opts = (flags.names + treeAttributes.options + (copyUp ? ["tmpcopyup"] : [])).joined(separator: ",")
        let suffix = (opts.isEmpty ? "" : " (\(opts))") + (optional ? " [optional]" : "")
        switch kind {
        case let .mount(fstype, source, data):
            return "mount \(fstype) \(source) on \(target)" + (data.map { " -o \($0)" } ?? "") + suffix
        case let .bind(source, recursive, idmap):
            return (recursive ? "bind" : "bind (top mount only)") + (idmap.map { $0.recursive ? " ridmapped" : " idmapped" } ?? "")
                + " \(source) on \(target)" + suffix
        case let .device(major, minor, mode, _, block):
            return "mknod \(target) \(block ? "b" : "c") \(major) \(minor) mode \(String(mode, radix: 8))" + suffix
        case let .symlink(to): return "symlink \(target) -> \(to)" + suffix
        case .mask: return "mask \(target)" + suffix
        case .readOnly: return "read-only \(target)" + suffix
        }
    }
}
