import CommandLineParsing
import Containers
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `berth run`: create a container from an image (or a root directory), run its command in the
/// foreground, and keep it for `diff` and `commit` (or remove it, with `--rm`).
struct Run: BerthCommand {
    static let spec = CommandSpec(
        name: "run",
        abstract: "Run a command in a new container.",
        discussion: """
            The container gets its own pid, mount, uts, ipc, network and cgroup namespaces, a \
            root it cannot leave (pivot_root), Docker's default capabilities, a seccomp filter \
            and no_new_privs. berth exits with the command's exit code (128+N when the command \
            was killed by signal N, 125 when berth failed, 126/127 when the command could not \
            be executed or found).

            A container made from an image runs on overlayfs: the image's layers below, its own \
            writable layer on top. It stays after it exits (see berth ps -a, diff, commit, rm) \
            unless --rm is given. With --rootfs, the directory itself is the root: the \
            container is listed, and reached by exec, stop, kill and inspect, while it runs, \
            and nothing of it is kept.

            Options come before the command: from its first word on, everything is the \
            command's. Put the command after -- when its name starts with a dash.
            """,
        usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]\n  or:  berth run --rootfs <dir> [OPTIONS] [--] COMMAND [ARG...]",
        options: [
            .value("rootfs", valueName: "dir", help: "Run in this root directory instead of an image."),
            .value("pull", valueName: "policy", help: "Pull the image: missing (when not in the store, the default), always or never."),
            .value("name", valueName: "name", help: "Name the container (default: a generated adjective_surname)."),
            .flag("rm", help: "Remove the container when it exits."),
            .flag("detach", short: "d", help: "Run in the background and print the container's id."),
            .value("restart", valueName: "policy",
                   help: "With -d: no, on-failure[:max-retries], always or unless-stopped. (default: no)"),
            .repeatable("log-opt", valueName: "opt",
                        help: "The log of a detached container: max-size=SIZE (default 10m; 0 never rotates), max-file=N (default 2)."),
            .value("entrypoint", valueName: "cmd", help: "Replace the image's entrypoint (the image's Cmd is dropped too)."),
            .flag("interactive", short: "i", help: "Keep stdin open and pass it to the container."),
            .flag("tty", short: "t", help: "Give the container a terminal (a pty)."),
            .value("hostname", valueName: "name", help: "Container hostname (default: the short id)."),
            .repeatable("env", short: "e", valueName: "var",
                        help: "Set an environment variable (NAME=value, or NAME to pass berth's own)."),
            .repeatable("env-file", valueName: "file", help: "Read environment variables from a file (NAME=value lines)."),
            .repeatable("label", short: "l", valueName: "label", help: "Set a label on the container (KEY=value, or KEY)."),
            .repeatable("label-file", valueName: "file", help: "Read labels from a file (KEY=value lines)."),
            .value("workdir", short: "w", valueName: "dir", help: "Working directory inside the container."),
            .value("user", short: "u", valueName: "user", help: "User to run as: uid[:gid] or name[:group]."),
            .value("memory", short: "m", valueName: "size",
                   help: "Memory limit (e.g. 64m); swap is limited to the same."),
            .value("cpus", valueName: "n", help: "CPU limit in cores (e.g. 0.5)."),
            .value("cpu-shares", short: "c", valueName: "n",
                   help: "CPU shares: the container's weight against others when CPU is scarce (2 to 262144; default 1024)."),
            .value("pids-limit", valueName: "n", help: "Maximum number of processes and threads."),
            .flag("read-only", help: "Mount the container's root filesystem read-only."),
            .value("network", valueName: "network", help: """
                bridge (the default network: an address, outbound traffic, published ports), a network's name \
                (berth network create; containers there reach each other by name), none (only lo), host (the \
                host's), or container:NAME (another container's). (default: bridge)
                """),
            .repeatable("network-alias", valueName: "name", help: "Another name the container has on its user-defined network."),
            .value("ip", valueName: "address", help: "The container's IPv4 address on its user-defined network."),
            .repeatable("publish", short: "p", valueName: "ports",
                        help: "Publish a port: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], ranges as 8000-8010."),
            .flag("publish-all", short: "P", help: "Publish every port the image EXPOSEs on a free host port."),
            .value("userns", valueName: "mode",
                   help: "User namespace: host, or auto (root inside is an unprivileged range of /etc/subuid). (default: host)"),
            .flag("init", help: "Run a tiny init as pid 1 that reaps zombies and forwards signals."),
            .repeatable("cap-add", valueName: "cap", help: "Add a capability (e.g. NET_ADMIN, or ALL)."),
            .repeatable("cap-drop", valueName: "cap", help: "Drop a capability (e.g. NET_RAW, or ALL)."),
            .flag("privileged", help: "Give the container every capability and device, no seccomp filter and no masked paths."),
            .repeatable("device", valueName: "device",
                        help: "Give a host device: /dev/HOST[:/dev/CONTAINER][:rwm] (default rwm)."),
            .repeatable("security-opt", valueName: "opt", help: """
                seccomp=unconfined, seccomp=PROFILE.json (a Docker or OCI profile), systempaths=unconfined \
                (no masked or read-only /proc and /sys paths), no-new-privileges[=true|false].
                """),
            .repeatable("volume", short: "v", valueName: "volume", help: """
                Bind a host path, /host:/container[:ro|rw] (a missing host directory is made), mount a named \
                volume, NAME:/container[:ro|rw|nocopy] (made on first use and filled with what the image has \
                there), or an anonymous volume, /container.
                """),
            .repeatable("mount", valueName: "mount", help: """
                Docker's mount: type=bind|volume|tmpfs,src=SOURCE,dst=/container[,readonly] and \
                bind-propagation=, volume-nocopy, tmpfs-size=, tmpfs-mode= (a bind's source must exist).
                """),
            .repeatable("tmpfs", valueName: "mount",
                        help: "Mount a tmpfs: /container[:options], e.g. size=16m,mode=1777,exec (default noexec,nosuid,nodev)."),
            .repeatable("ulimit", valueName: "ulimit",
                        help: "A resource limit: name=soft[:hard] (e.g. nofile=1024:2048)."),
            .value("cgroup-parent", valueName: "path",
                   help: "The cgroup under which the container's cgroup is created. (default: berth)"),
        ] + HealthFlags.options + PullFlags.options,
        stopsAtFirstPositional: true
    )

    static var failureCode: Int32 { 125 }

    let global: GlobalOptions
    /// The root directory (--rootfs), or nil for an image run.
    let rootfs: String?
    /// The image, as named on the command line (nil with --rootfs).
    let image: String?
    /// `--pull`: when the image is fetched from its registry.
    let pullPolicy: PullPolicy
    let pullFlags: PullFlags
    let name: String?
    let autoRemove: Bool
    let detach: Bool
    let restart: RestartPolicy
    let logMaxSize: Int64
    let logMaxFiles: Int
    let entrypoint: String?
    let interactive: Bool
    let tty: Bool
    let hostname: String?
    let labels: [String: String]
    let env: [String]
    let workdir: String?
    let user: String?
    let memory: String?
    let cpus: Double?
    let cpuShares: UInt64?
    let pidsLimit: Int64?
    let readOnly: Bool
    let network: String
    let networkAliases: [String]
    let ipAddress: String?
    let publish: [String]
    let publishAll: Bool
    let userns: UserNamespaceMode?
    let useInit: Bool
    let capAdd: [String]
    let capDrop: [String]
    let privileged: Bool
    let securityOpt: [String]
    let volume: [String]
    let mount: [String]
    let tmpfs: [String]
    let device: [String]
    let ulimit: [String]
    let cgroupParent: String
    /// The command and its arguments (for an image run, empty means the image's own).
    let command: [String]
    /// `--health-*`: over the image's HEALTHCHECK; nil when none is given.
    let healthCheck: HealthCheck?

    /// Reads run's options and checks what can be checked without the host.
    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        try self.init(global: global, parsed, detach: parsed.flag("detach"))
    }

    /// `create`'s reading of the same options: its container starts detached (`detach`), and
    /// its spec has no -d.
    init(global: GlobalOptions, _ parsed: ParsedArguments, detach: Bool) throws(UsageError) {
        self.global = global
        // create's spec has no --rootfs: its containers are kept, so they need an image.
        rootfs = parsed.command.options.contains { $0.long == "rootfs" } ? parsed.string("rootfs") : nil
        name = parsed.string("name")
        let pullText = parsed.string("pull") ?? "missing"
        guard let pullPolicy = PullPolicy(rawValue: pullText) else {
            throw UsageError("unknown --pull policy \"\(pullText)\": use missing, always or never")
        }
        self.pullPolicy = pullPolicy
        pullFlags = try PullFlags(parsed)
        autoRemove = parsed.flag("rm")
        self.detach = detach
        let restartText = parsed.string("restart") ?? "no"
        guard let restart = RestartPolicy.parse(restartText) else {
            throw UsageError("unknown --restart policy \"\(restartText)\": use no, on-failure[:max-retries], always or unless-stopped")
        }
        self.restart = restart
        var logMaxSize: Int64 = 10 * 1024 * 1024
        var logMaxFiles = 2
        for option in parsed.strings("log-opt") {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            switch (parts.first, parts.count == 2 ? parts[1] : nil) {
            case ("max-size", let value?):
                // "0" turns rotation off (ByteSize refuses zero: no memory limit is zero).
                guard let bytes = value == "0" ? 0 : try? ByteSize.parse(value) else {
                    throw UsageError("--log-opt max-size=\(value): not a size (e.g. 10m, 512k, 0 for no rotation)")
                }
                logMaxSize = bytes
            case ("max-file", let value?):
                guard let count = Int(value), (1...1000).contains(count) else {
                    throw UsageError("--log-opt max-file=\(value): give a number of files from 1 to 1000")
                }
                logMaxFiles = count
            default:
                throw UsageError("unsupported --log-opt \"\(option)\": use max-size=SIZE or max-file=N")
            }
        }
        self.logMaxSize = logMaxSize
        self.logMaxFiles = logMaxFiles
        entrypoint = parsed.string("entrypoint")
        interactive = parsed.flag("interactive")
        tty = parsed.flag("tty")
        hostname = parsed.string("hostname")
        do throws(ContainerError) {
            // Docker's order: the files' variables first, so an -e of the same name wins.
            var fromFiles: [String] = []
            for file in parsed.strings("env-file") { fromFiles += try KeyValueFile.read(file, kind: .environment) }
            env = fromFiles + parsed.strings("env")
            labels = try KeyValueFile.labels(files: parsed.strings("label-file"), flags: parsed.strings("label"))
        } catch {
            throw UsageError(error.message)
        }
        workdir = parsed.string("workdir")
        user = parsed.string("user")
        memory = parsed.string("memory")
        cpus = try parsed.double("cpus")
        cpuShares = try Self.cpuShares(parsed)
        pidsLimit = try parsed.int64("pids-limit")
        readOnly = parsed.flag("read-only")
        network = parsed.string("network") ?? ContainerRequest.defaultNetwork
        networkAliases = parsed.strings("network-alias")
        ipAddress = parsed.string("ip")
        publish = parsed.strings("publish")
        publishAll = parsed.flag("publish-all")
        do {
            userns = try parsed.string("userns").map(UserNamespaceMode.init(flag:))
        } catch {
            throw UsageError(error.message)
        }
        useInit = parsed.flag("init")
        capAdd = parsed.strings("cap-add")
        capDrop = parsed.strings("cap-drop")
        privileged = parsed.flag("privileged")
        securityOpt = parsed.strings("security-opt")
        volume = parsed.strings("volume")
        mount = parsed.strings("mount")
        tmpfs = parsed.strings("tmpfs")
        device = parsed.strings("device")
        ulimit = parsed.strings("ulimit")
        cgroupParent = parsed.string("cgroup-parent") ?? "berth"
        healthCheck = try HealthFlags.parse(parsed)
        if rootfs == nil, let first = parsed.positionals.first {
            image = first
            command = Array(parsed.positionals.dropFirst())
        } else {
            image = nil
            command = parsed.positionals
        }
        try validate()
    }

    /// The kernel's PID_MAX_LIMIT on 64-bit machines: pids.max takes nothing larger.
    static let maximumPids: Int64 = 4_194_304

    /// `-c/--cpu-shares`, checked as Docker reads it: 0 is the default (none set).
    static func cpuShares(_ parsed: ParsedArguments) throws(UsageError) -> UInt64? {
        guard let value = try parsed.int64("cpu-shares"), value != 0 else { return nil }
        guard (2...262_144).contains(value) else {
            throw UsageError("--cpu-shares must be from 2 to 262144 (0 for the default, 1024), not \(value)")
        }
        return UInt64(value)
    }

    /// Docker's smallest memory limit.
    static let minimumMemory: Int64 = 6 * 1024 * 1024

    /// A host name the UTS namespace takes (at most 64 bytes) and every tool reads back: letters,
    /// digits, '-', '_' and '.'; no spaces, control characters or slashes.
    static func isValidHostname(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        return bytes.allSatisfy { b in
            (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 46 || b == 95
        }
    }

    private func validate() throws(UsageError) {
        if rootfs == nil && image == nil {
            throw UsageError("no image given: berth run [options] IMAGE [COMMAND...], or berth run --rootfs DIR [options] -- COMMAND")
        }
        if restart.name != "no" && !detach {
            throw UsageError("--restart needs -d: only a detached container has a monitor to restart it")
        }
        if restart.name != "no" && autoRemove {
            throw UsageError("--restart and --rm conflict: a restarted container must not be removed when it exits")
        }
        if detach && rootfs != nil {
            throw UsageError("-d needs an image: a --rootfs container is not kept, so nothing could follow it")
        }
        if rootfs != nil && command.isEmpty {
            throw UsageError("no command given: berth run --rootfs DIR [options] -- COMMAND [ARG...]")
        }
        if network.isEmpty { throw UsageError("--network needs a value: bridge, none, host, container:NAME or a network's name") }
        // The kernel's smallest CFS quota is 1 ms per 100 ms period.
        if let cpus, !(cpus >= 0.01 && cpus <= 1024) {
            throw UsageError("--cpus must be a number of cores from 0.01 to 1024")
        }
        if let pidsLimit, pidsLimit < 1 { throw UsageError("--pids-limit must be at least 1") }
        // Checked here, before anything is created (issue 11): the kernel's own bounds, and
        // Docker's smallest memory limit (under 6 MiB a container is killed as it starts).
        if let pidsLimit, pidsLimit > Self.maximumPids {
            throw UsageError("--pids-limit \(pidsLimit) is more than the kernel allows (\(Self.maximumPids))")
        }
        if let memory, let bytes = try? ByteSize.parse(memory), bytes < Self.minimumMemory {
            throw UsageError("--memory \(memory) is below the smallest limit a container can start with, 6m")
        }
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if let cpus, cores > 0, cpus > Double(cores) {
            throw UsageError("--cpus \(cpus) is more than this machine has (\(cores))")
        }
        if let hostname, !Self.isValidHostname(hostname) {
            throw UsageError("--hostname \"\(hostname)\" is not a host name: use letters, digits, '-', '_' and '.', at most 64 characters")
        }
        for entry in env where entry.hasPrefix("=") || entry.isEmpty {
            throw UsageError("-e \"\(entry)\" names no variable: use NAME=value or NAME")
        }
        if let workdir, !workdir.hasPrefix("/") {
            throw UsageError("--workdir must be an absolute path inside the container")
        }
    }

}
