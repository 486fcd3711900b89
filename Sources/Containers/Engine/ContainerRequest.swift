import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// What a user asks for when creating a container: `berth run`'s options as data, before they
/// are checked and resolved against an image (`ContainerEngine.create`).
public struct ContainerRequest: Sendable {
    /// What the container's root is.
    public enum Root: Sendable, Equatable {
        /// An image by reference, id or digest: overlayfs over its layers, with a writable layer
        /// of the container's own.
        case image(String)
        /// A directory on the host, used as it is (`--rootfs`).
        case directory(String)
    }

    public var root: Root
    public var name: String?
    public var autoRemove = false
    public var restart = RestartPolicy()
    public var logMaxSize: Int64 = 10 * 1024 * 1024
    public var logMaxFiles = 2
    /// Replaces the image's entrypoint ("" clears it); the image's Cmd is dropped too.
    public var entrypoint: String?
    public var interactive = false
    public var tty = false
    public var hostname: String?
    /// `-e` entries: `NAME=value`, or `NAME` for the caller's own value (resolved at creation).
    public var env: [String] = []
    /// `--label`/`--label-file`, kept in the record's Config.Labels.
    public var labels: [String: String] = [:]
    public var workdir: String?
    public var user: String?
    public var memory: String?
    public var cpus: Double?
    /// `-c/--cpu-shares`: the container's weight against its siblings when CPU is scarce.
    public var cpuShares: UInt64?
    public var pidsLimit: Int64?
    public var readOnly = false
    /// "bridge" (the default network), "none" (a network namespace with only lo), "host",
    /// "container:NAME" (another container's network namespace) or a network's name.
    public var network = ContainerRequest.defaultNetwork
    /// `--network-alias`: more names the container has on a user-defined network.
    public var networkAliases: [String] = []
    /// `--ip`: the container's address on its network.
    public var ipAddress: String?
    /// `-p` entries, as given.
    public var publish: [String] = []
    /// `-P`: every port the image EXPOSEs, on a free host port.
    public var publishAll = false
    /// `--userns`; nil: not given (the host's).
    public var userns: UserNamespaceMode?
    public var useInit = false
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var privileged = false
    public var securityOpt: [String] = []
    /// `-v` entries: /host:/ctr[:modes], NAME:/ctr[:modes] or /ctr (see `MountRequest`).
    public var volumes: [String] = []
    /// `--mount` entries: type=bind|volume|tmpfs,src=…,dst=…[,…].
    public var mounts: [String] = []
    /// `--tmpfs` entries: /ctr[:options].
    public var tmpfs: [String] = []
    /// `--device` entries: /dev/HOST[:/dev/CONTAINER][:rwm].
    public var devices: [String] = []
    public var ulimits: [String] = []
    public var cgroupParent = "berth"
    /// The command and its arguments; for an image, empty means the image's own.
    public var command: [String] = []
    /// `--health-*` flags, each field over the image's HEALTHCHECK (zero and an empty test: not given).
    public var healthCheck: HealthCheck?
    /// The signal `stop` sends first, over the image's StopSignal (Compose's `stop_signal`).
    public var stopSignal: String?

    public init(root: Root, network: String = ContainerRequest.defaultNetwork) {
        self.root = root
        self.network = network
    }
}

/// What an image's config gives a container unless a flag says otherwise.
public struct ImageDefaults: Sendable {
    public var env: [String]
    public var workingDir: String?
    public var user: String?

    public init(env: [String] = [], workingDir: String? = nil, user: String? = nil) {
        self.env = env
        self.workingDir = workingDir
        self.user = user
    }
}

extension ContainerRequest {
    /// The checked launch configuration of a container whose root is `rootfs` (where the child
    /// mounts the overlay, for an image). `image` gives the defaults the options override;
    /// `fileRoots` are where the root's /etc/passwd is read from, topmost first.
    public func launchConfig(id: String, rootfs: String, args: [String], image: ImageDefaults,
                             fileRoots: [String]) throws -> ContainerConfig {
        var config = ContainerConfig(id: id, rootfs: rootfs, args: args, env: [])
        config.hostname = hostname ?? String(id.prefix(12))
        config.terminal = tty
        config.readOnlyRootfs = readOnly
        config.useInit = useInit
        if let dir = workdir ?? image.workingDir, !dir.isEmpty { config.workingDirectory = dir }
        if network == "host" { config.namespaces.remove(.network) }
        if let spec = user ?? image.user, !spec.isEmpty { config.user = try UserSpec.resolve(spec, roots: fileRoots) }
        config.env = environment(config, image: image.env, fileRoots: fileRoots)
        try applyHostMounts(try mountRequests(), to: &config)
        config.rlimits = try ulimits.map(ResourceLimit.parse)
        config.resources.memoryBytes = try memory.map(ByteSize.parse)
        config.resources.cpu = cpus.map { CPUBandwidth(cpus: $0) }
        config.resources.cpuShares = cpuShares
        config.resources.pidsLimit = pidsLimit
        config.devices = try devices.map(DeviceNode.parse)
        // Docker's: the default list and a rule for each --device, or every device when privileged.
        config.resources.devices = privileged ? DeviceRule.allowAll : DeviceRule.containerDefault + config.devices.map(\.rule)
        try applySecurity(to: &config)
        return config
    }

    /// The launch configuration of a `--rootfs` container: the directory must exist.
    public func directoryLaunchConfig(id: String = ContainerID.generate()) throws -> ContainerConfig {
        guard case .directory(let directory) = root else {
            throw ContainerError(.invalidArgument, "the container's root is an image, not a directory")
        }
        let rootfs = absolutePath(directory)
        var st = stat()
        guard stat(rootfs, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw ContainerError(.notFound, "root filesystem \(rootfs) is not a directory: build one with rootfs-scripts/busybox.sh DIR")
        }
        return try launchConfig(id: id, rootfs: rootfs, args: command, image: ImageDefaults(), fileRoots: [rootfs])
    }

    /// PATH, HOSTNAME, HOME and TERM as Docker sets them, the image's Env over them, then the
    /// user's -e in order.
    private func environment(_ config: ContainerConfig, image: [String], fileRoots: [String]) -> [String] {
        var env: [(String, String)] = [
            ("PATH", ContainerConfig.defaultPath),
            ("HOSTNAME", config.hostname ?? ""),
            ("HOME", UserSpec.home(of: config.user.uid, roots: fileRoots) ?? (config.user.uid == 0 ? "/root" : "/")),
        ]
        if tty { env.append(("TERM", "xterm")) }
        for entry in image {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let name = String(parts[0])
            if let i = env.firstIndex(where: { $0.0 == name }) {
                env[i].1 = String(parts[1])
            } else {
                env.append((name, String(parts[1])))
            }
        }
        for (name, value) in EnvironmentFlags.resolve(self.env) {
            env.removeAll { $0.0 == name }
            env.append((name, value))
        }
        return env.map { "\($0.0)=\($0.1)" }
    }

    private func applySecurity(to config: inout ContainerConfig) throws {
        var seccomp = SeccompChoice.default
        var systemPathsConfined = true
        for option in securityOpt {
            let parts = option.split(separator: option.contains("=") ? "=" : ":", maxSplits: 1,
                                     omittingEmptySubsequences: false).map(String.init)
            switch (parts[0], parts.count > 1 ? parts[1] : nil) {
            case ("seccomp", "unconfined"?): seccomp = .unconfined
            case ("seccomp", let path?) where !path.isEmpty: seccomp = .file(path)
            case ("systempaths", "unconfined"?): systemPathsConfined = false
            case ("no-new-privileges", nil), ("no-new-privileges", "true"?): config.noNewPrivileges = true
            case ("no-new-privileges", "false"?): config.noNewPrivileges = false
            default:
                throw RuntimeError(.invalidArgument, """
                    unsupported --security-opt "\(option)": use seccomp=unconfined, seccomp=PROFILE.json, \
                    systempaths=unconfined or no-new-privileges[=true|false]
                    """)
            }
        }
        if !systemPathsConfined {
            config.maskedPaths = []
            config.readOnlyPaths = []
        }
        if privileged {
            // As Docker: --privileged means no filter, even with a profile given (which is still
            // read and checked first, so a bad file is an error either way).
            if case .file(let path) = seccomp { _ = try SeccompProfileFile.load(path, capabilities: .held) }
            config.capabilities = ProcessCapabilities.forUser(uid: config.user.uid, set: .held)
            config.seccomp = nil
            config.maskedPaths = []
            config.readOnlyPaths = []
            return
        }
        var set = try CapabilitySet.containerDefault.applying(add: capAdd, drop: capDrop)
        // "ALL" means all that berth can give (see CapabilitySet.held); a capability named
        // explicitly that berth lacks still fails loudly at capset.
        if capAdd.contains(where: { $0.uppercased() == "ALL" }) { set = set.intersection(.held) }
        config.capabilities = ProcessCapabilities.forUser(uid: config.user.uid, set: set)
        // Like Docker's, the profile depends on the capabilities: a granted capability allows
        // the calls that go with it (--cap-add SYS_ADMIN allows mount).
        switch seccomp {
        case .default: config.seccomp = .default(for: set)
        case .unconfined: config.seccomp = nil
        case .file(let path): config.seccomp = try SeccompProfileFile.load(path, capabilities: set)
        }
    }

    /// What `--security-opt seccomp=` asked for.
    private enum SeccompChoice {
        case `default`, unconfined
        case file(String)
    }
}

/// `-e` entries, as Docker reads them.
public enum EnvironmentFlags {
    /// `NAME=value` entries as (name, value); `NAME` alone takes the caller's value (its bytes
    /// kept, as `ArgumentBytes` carries them), and a `NAME` the caller does not have is left out,
    /// as Docker does. Resolved once, when the container is
    /// created: a later start uses the values it got then.
    public static func resolve(_ entries: [String]) -> [(String, String)] {
        entries.compactMap { entry in
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            if parts.count == 2 { return (name, String(parts[1])) }
            return ArgumentBytes.environmentValue(name).map { (name, $0) }
        }
    }

    /// `list` (NAME=value entries) with `flags` set over it, each name once, in order.
    public static func applying(_ flags: [(String, String)], to list: [String]) -> [String] {
        var env = list
        for (name, value) in flags {
            env.removeAll { $0.hasPrefix(name + "=") }
            env.append(name + "=" + value)
        }
        return env
    }
}

/// `path` made absolute against the current directory.
public func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
    guard getcwd(&buffer, buffer.count) != nil else { return path }
    let cwd = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return cwd == "/" ? "/" + path : cwd + "/" + path
}
