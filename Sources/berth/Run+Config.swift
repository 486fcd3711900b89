import Runtime
#if canImport(Glibc)
import Glibc
#endif

extension Run {
    /// Turns the flags into a checked `ContainerConfig` for `--rootfs`, Docker's defaults where a
    /// flag is absent.
    func makeConfig() throws -> ContainerConfig {
        let root = absolute(rootfs ?? "")
        var st = stat()
        guard stat(root, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw RuntimeError(.notFound, "root filesystem \(root) is not a directory: build one with rootfs-scripts/busybox.sh DIR")
        }
        return try makeConfig(id: ContainerID.generate(), rootfs: root, args: command, image: ImageDefaults(),
                              fileRoots: [root])
    }

    /// The config for a container whose root is `rootfs` (mounted there by the child when the
    /// config gets an overlay). `image` gives the defaults the flags override; `fileRoots` are
    /// where the root's /etc/passwd is read from, topmost first.
    func makeConfig(id: String, rootfs: String, args: [String], image: ImageDefaults,
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
        config.bindMounts = try volume.map(BindMount.parse)
        config.rlimits = try ulimit.map(ResourceLimit.parse)

        config.resources = ResourceLimits(
            memoryBytes: try memory.map(ByteSize.parse),
            cpu: cpus.map { CPUBandwidth(cpus: $0) },
            pidsLimit: pidsLimit)

        try applySecurity(to: &config)
        return config
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
        for (name, value) in environmentFlags(self.env) {
            env.removeAll { $0.0 == name }
            env.append((name, value))
        }
        return env.map { "\($0.0)=\($0.1)" }
    }

    private func applySecurity(to config: inout ContainerConfig) throws {
        var seccompEnabled = true
        for option in securityOpt {
            let parts = option.split(separator: option.contains("=") ? "=" : ":", maxSplits: 1,
                                     omittingEmptySubsequences: false).map(String.init)
            switch (parts[0], parts.count > 1 ? parts[1] : nil) {
            case ("seccomp", "unconfined"?): seccompEnabled = false
            case ("no-new-privileges", nil), ("no-new-privileges", "true"?): config.noNewPrivileges = true
            case ("no-new-privileges", "false"?): config.noNewPrivileges = false
            default:
                throw RuntimeError(.invalidArgument,
                                   "unsupported --security-opt \"\(option)\": use seccomp=unconfined or no-new-privileges[=true|false]")
            }
        }
        if privileged {
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
        // Like Docker's profile, a granted capability lifts the denials that go with it
        // (--cap-add SYS_ADMIN allows mount).
        config.seccomp = seccompEnabled ? .default(for: set) : nil
    }
}

/// What an image's config gives a container unless a flag says otherwise.
struct ImageDefaults {
    var env: [String] = []
    var workingDir: String?
    var user: String?
}

/// `-e` flags as (name, value): `NAME=value`, or `NAME` alone for berth's own value of it; a
/// `NAME` berth does not have is left out, as Docker does.
func environmentFlags(_ entries: [String]) -> [(String, String)] {
    entries.compactMap { entry in
        let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        if parts.count == 2 { return (name, String(parts[1])) }
        return getenv(name).map { (name, String(cString: $0)) }
    }
}

/// `list` (NAME=value entries) with `flags` set over it, each name once, in order.
func applying(_ flags: [(String, String)], to list: [String]) -> [String] {
    var env = list
    for (name, value) in flags {
        env.removeAll { $0.hasPrefix(name + "=") }
        env.append(name + "=" + value)
    }
    return env
}
