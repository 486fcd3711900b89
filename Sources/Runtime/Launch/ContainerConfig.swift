/// The user a container's process runs as, already resolved to numbers.
public struct ProcessUser: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups; empty clears them (Docker's `-u uid:gid` behaviour).
    public var additionalGids: [UInt32]

    public init(uid: UInt32, gid: UInt32, additionalGids: [UInt32] = []) {
        self.uid = uid
        self.gid = gid
        self.additionalGids = additionalGids
    }

    public static let root = ProcessUser(uid: 0, gid: 0)
}

/// A resource limit for setrlimit (RLIMIT_NOFILE and friends).
public struct ResourceLimit: Sendable, Equatable {
    public var resource: Int32
    public var soft: UInt64
    public var hard: UInt64

    public init(resource: Int32, soft: UInt64, hard: UInt64) {
        self.resource = resource
        self.soft = soft
        self.hard = hard
    }
}

/// A host path bound into the container (`-v /host:/ctr:ro`, a volume's data directory).
public struct BindMount: Sendable, Equatable {
    public var source: String
    public var destination: String
    public var readOnly: Bool
    /// The bind's propagation (`bind-propagation`); nil: private, as every mount of the container.
    public var propagation: MountPropagation?
    /// The mounts below the source are bound too ("rbind"); false binds the source's own mount
    /// only ("bind", an OCI spec's).
    public var recursive: Bool
    /// What the bind's remount sets besides read-only: nosuid, nodev, noexec, the atime flags
    /// (an OCI spec's options).
    public var flags: MountFlags
    /// The source's file owners shown through a mapping (an idmapped mount); nil: as they are.
    public var idmap: MountIDMap?
    /// Set on the bind and the mounts it brought along ("rro", an OCI spec's).
    public var treeAttributes: RecursiveMountAttributes

    public init(source: String, destination: String, readOnly: Bool, propagation: MountPropagation? = nil,
                recursive: Bool = true, flags: MountFlags = [], idmap: MountIDMap? = nil,
                treeAttributes: RecursiveMountAttributes = .init()) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
        self.propagation = propagation
        self.recursive = recursive
        self.flags = flags
        self.idmap = idmap
        self.treeAttributes = treeAttributes
    }
}

/// An idmapped bind's mapping (an OCI spec's `idmap` or `ridmap` with the mount's uidMappings
/// and gidMappings): a file the source's filesystem has as owned by `containerID` shows through
/// the mount as owned by `hostID`.
public struct MountIDMap: Sendable, Equatable {
    /// Both empty: the container's own user namespace's mappings.
    public var uidMappings: [IDMapping]
    public var gidMappings: [IDMapping]
    /// "ridmap": the mounts below the source (an rbind's) are idmapped too.
    public var recursive: Bool

    public init(uidMappings: [IDMapping] = [], gidMappings: [IDMapping] = [], recursive: Bool = false) {
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
        self.recursive = recursive
    }

    /// The container's user namespace's mapping rather than one of the mount's own.
    public var isTheContainers: Bool { uidMappings.isEmpty && gidMappings.isEmpty }
}

/// A mount's propagation: mount(2)'s MS_PRIVATE, MS_SLAVE, MS_SHARED and MS_UNBINDABLE, and their
/// recursive forms (Docker's `bind-propagation` takes all but the unbindable ones).
public enum MountPropagation: String, Sendable, CaseIterable {
    case `private`, rprivate, shared, rshared, slave, rslave, unbindable, runbindable

    /// The flags that set it on a mount.
    public var flags: MountFlags {
        switch self {
        case .private: .propagationPrivate
        case .rprivate: [.propagationPrivate, .recursive]
        case .shared: .propagationShared
        case .rshared: [.propagationShared, .recursive]
        case .slave: .propagationSlave
        case .rslave: [.propagationSlave, .recursive]
        case .unbindable: .propagationUnbindable
        case .runbindable: [.propagationUnbindable, .recursive]
        }
    }

    /// The ones Docker's `bind-propagation` takes.
    public static let dockerCases: [MountPropagation] = [.private, .rprivate, .shared, .rshared, .slave, .rslave]

    public init?(dockerName: String) {
        guard let known = Self.dockerCases.first(where: { $0.rawValue == dockerName }) else { return nil }
        self = known
    }
}

/// A tmpfs mounted in the container (`--tmpfs`, `--mount type=tmpfs`).
public struct TmpfsMount: Sendable, Equatable {
    public var destination: String
    /// mount(2)'s flags: read-only, nosuid, nodev, noexec.
    public var flags: MountFlags
    /// tmpfs' own options ("size=16777216", "mode=1777"), in order.
    public var options: [String]
    /// Set on the tmpfs once it is mounted ("rro", an OCI spec's).
    public var treeAttributes: RecursiveMountAttributes
    /// The tmpfs starts with a copy of what the image has at its destination (runc's "tmpcopyup").
    public var copyUp: Bool

    public init(destination: String, flags: MountFlags, options: [String],
                treeAttributes: RecursiveMountAttributes = .init(), copyUp: Bool = false) {
        self.destination = destination
        self.flags = flags
        self.options = options
        self.treeAttributes = treeAttributes
        self.copyUp = copyUp
    }
}

/// One of a config's user mounts, by its list and place there (`ContainerConfig.mountOrder`).
public enum MountReference: Sendable, Equatable {
    case bind(Int), tmpfs(Int), filesystem(Int)
}

/// A filesystem of any other type mounted in the container (an OCI spec's proc, sysfs, mqueue,
/// devpts, ... at a place of its own).
public struct FilesystemMount: Sendable, Equatable {
    public var destination: String
    /// The filesystem type, as mount(2) and /proc/filesystems name it.
    public var type: String
    public var source: String
    /// mount(2)'s flags, and the propagation set once it is mounted.
    public var flags: MountFlags
    /// The filesystem's own options, in order: mount(2)'s data string.
    public var options: [String]
    /// Set on the filesystem once it is mounted ("rro", an OCI spec's).
    public var treeAttributes: RecursiveMountAttributes

    public init(destination: String, type: String, source: String, flags: MountFlags, options: [String],
                treeAttributes: RecursiveMountAttributes = .init()) {
        self.destination = destination
        self.type = type
        self.source = source
        self.flags = flags
        self.options = options
        self.treeAttributes = treeAttributes
    }
}

/// The checked description of one container, built once from user input (or an OCI spec) and
/// validated; the launcher sees only this (runc's specconv does the same).
public struct ContainerConfig: Sendable {
    /// 64 hex characters.
    public var id: String
    /// Absolute host path of the root filesystem (with `overlay`: where it is mounted).
    public var rootfs: String
    public var readOnlyRootfs = false
    /// Layers to mount as the root, inside the container's mount namespace; nil: `rootfs` is a
    /// plain directory.
    public var overlay: OverlayRoot?

    public var args: [String]
    public var env: [String]
    /// Absolute path inside the container; created if missing.
    public var workingDirectory = "/"
    public var user = ProcessUser.root
    public var hostname: String?
    /// The NIS domain name (`domainname`, the OCI spec's key), set with the hostname in the
    /// container's own UTS namespace. nil leaves it as the namespace starts (the host's).
    public var domainname: String?
    public var terminal = false
    public var rlimits: [ResourceLimit] = []

    public var namespaces = NamespaceSet.containerDefault
    /// A network namespace to start in (`/proc/PID/ns/net` of another container's init, for
    /// `--network container:NAME`) instead of a new one; `namespaces` then lacks `.network`.
    /// Resolved at each start, never part of the launch spec.
    public var networkNamespacePath: String?
    /// nil: the host's user namespace (Docker's default); else one of the container's own, which
    /// owns every other namespace it gets.
    public var userNamespace: UserNamespace?
    /// Namespaces of other processes entered instead of new ones (an OCI spec's paths); their
    /// kinds are absent from `namespaces`. A joined mount namespace is taken as it is: no root
    /// or mounts are set up in it.
    public var joinedNamespaces: [NamespaceJoin] = []
    /// nil: the host's clocks.
    public var timeNamespace: TimeNamespace?
    /// nil: the personality berth has (LINUX).
    public var executionDomain: ExecutionDomain?
    /// nil: `args[0]` is looked up in the search path. Else the file exec'd with `args` as its
    /// argv: an OCI hook run in the container, whose argv[0] need not be its path.
    public var executable: String?
    public var bindMounts: [BindMount] = []
    public var tmpfsMounts: [TmpfsMount] = []
    public var filesystemMounts: [FilesystemMount] = []
    /// An OCI spec's mounts in the spec's own order, which the runtime spec says to keep: the
    /// plan follows it instead of putting parents first (Docker's order, berth's own); empty for
    /// berth's containers.
    public var mountOrder: [MountReference] = []
    public var maskedPaths = ContainerConfig.defaultMaskedPaths
    public var readOnlyPaths = ContainerConfig.defaultReadOnlyPaths

    /// Every container has a device list: the default one unless it is privileged or given devices.
    public var resources = ResourceLimits(devices: DeviceRule.containerDefault)
    /// Host devices made in the container's /dev (`--device`); their rules are in `resources.devices`.
    public var devices: [DeviceNode] = []
    /// nil: keep every capability (privileged).
    public var capabilities: ProcessCapabilities?
    public var noNewPrivileges = true
    /// nil: unconfined.
    public var seccomp: SeccompProfile?
    /// Run a tiny init as pid 1 that reaps zombies and forwards signals.
    public var useInit = false

    public init(id: String, rootfs: String, args: [String], env: [String]) {
        self.id = id
        self.rootfs = rootfs
        self.args = args
        self.env = env
    }

    /// The PATH the command is looked up in: the container's own, else the usual default.
    public var searchPath: String {
        env.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) } ?? Self.defaultPath
    }

    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// runc's defaults (libcontainer/specconv/example.go): kernel interfaces that reveal the host
    /// or let a container poke at it, /sys/devices/virtual/powercap among them (RAPL energy
    /// counters: a side channel on what the host computes). Plus /proc/interrupts, which shows
    /// the host's devices and per-CPU interrupt counts (another side channel).
    /// `--security-opt systempaths=unconfined` and `--privileged` lift these and the read-only ones.
    public static let defaultMaskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ]
    public static let defaultReadOnlyPaths = [
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    ]
}
