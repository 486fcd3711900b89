/// What berth keeps about one container in `containers/<id>/config.json`, shaped like Docker's
/// `inspect` output (its key names), so `berth inspect` can print it as it is.
public struct ContainerRecord: Codable, Sendable, Equatable {
    /// 64 hex characters.
    public var id: String
    public var name: String
    /// RFC 3339.
    public var created: String
    /// The command: the executable and its arguments, after Entrypoint and Cmd are combined.
    public var path: String
    public var args: [String]
    /// The image id (its config digest, `sha256:…`).
    public var image: String
    /// The digest of the image's manifest: the exact layers under the container, whatever its
    /// tag names now.
    public var imageManifest: String
    public var state: ContainerState
    public var config: ContainerSettings
    public var hostConfig: HostSettings
    /// The words given to `berth run` after the image, to create the same process again.
    public var runArguments: [String]
    /// How many times the monitor restarted it (`--restart`).
    public var restartCount: Int

    public init(id: String, name: String, created: String, path: String, args: [String], image: String,
                imageManifest: String, state: ContainerState = .init(), config: ContainerSettings,
                hostConfig: HostSettings, runArguments: [String]) {
        self.id = id
        self.name = name
        self.created = created
        self.path = path
        self.args = args
        self.image = image
        self.imageManifest = imageManifest
        self.state = state
        self.config = config
        self.hostConfig = hostConfig
        self.runArguments = runArguments
        restartCount = 0
    }

    enum CodingKeys: String, CodingKey {
        case id = "Id", name = "Name", created = "Created", path = "Path", args = "Args", image = "Image"
        case imageManifest = "ImageManifest", state = "State", config = "Config", hostConfig = "HostConfig"
        case runArguments = "RunArguments", restartCount = "RestartCount"
    }

    public var shortID: String { String(id.prefix(12)) }
}

/// A container's life so far, as `ps` and `inspect` show it.
public struct ContainerState: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case created, running, exited
    }

    public var status: Status
    /// The container's init process on the host while it runs; 0 otherwise.
    public var pid: Int32
    /// nil until it ends, and when its end was never seen (berth was killed with it).
    public var exitCode: Int32?
    public var oomKilled: Bool
    public var startedAt: String?
    public var finishedAt: String?

    public init(status: Status = .created, pid: Int32 = 0, exitCode: Int32? = nil, oomKilled: Bool = false,
                startedAt: String? = nil, finishedAt: String? = nil) {
        self.status = status
        self.pid = pid
        self.exitCode = exitCode
        self.oomKilled = oomKilled
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case status = "Status", pid = "Pid", exitCode = "ExitCode", oomKilled = "OOMKilled"
        case startedAt = "StartedAt", finishedAt = "FinishedAt"
    }
}

/// The process's settings, Docker's `Config`.
public struct ContainerSettings: Codable, Sendable, Equatable {
    /// The image as the user named it.
    public var image: String
    public var hostname: String
    public var user: String
    public var env: [String]
    public var cmd: [String]?
    public var entrypoint: [String]?
    public var workingDir: String
    public var tty: Bool
    public var openStdin: Bool
    /// The signal `stop` sends first (the image's StopSignal; SIGTERM when nil).
    public var stopSignal: String?

    public init(image: String, hostname: String, user: String, env: [String], cmd: [String]?,
                entrypoint: [String]?, workingDir: String, tty: Bool, openStdin: Bool, stopSignal: String? = nil) {
        self.image = image
        self.hostname = hostname
        self.user = user
        self.env = env
        self.cmd = cmd
        self.entrypoint = entrypoint
        self.workingDir = workingDir
        self.tty = tty
        self.openStdin = openStdin
        self.stopSignal = stopSignal
    }

    enum CodingKeys: String, CodingKey {
        case image = "Image", hostname = "Hostname", user = "User", env = "Env", cmd = "Cmd"
        case entrypoint = "Entrypoint", workingDir = "WorkingDir", tty = "Tty", openStdin = "OpenStdin"
        case stopSignal = "StopSignal"
    }
}

/// How the host runs it, Docker's `HostConfig` (the part berth has).
public struct HostSettings: Codable, Sendable, Equatable {
    public var autoRemove: Bool
    public var binds: [String]
    public var memory: Int64
    public var nanoCpus: Int64
    public var pidsLimit: Int64
    public var readonlyRootfs: Bool
    public var networkMode: String
    public var privileged: Bool
    public var cgroupParent: String
    /// The container's cgroup, relative to the hierarchy's root (berth's addition).
    public var cgroup: String
    public var restartPolicy: RestartPolicy

    public init(autoRemove: Bool, binds: [String], memory: Int64, nanoCpus: Int64, pidsLimit: Int64,
                readonlyRootfs: Bool, networkMode: String, privileged: Bool, cgroupParent: String, cgroup: String,
                restartPolicy: RestartPolicy = RestartPolicy()) {
        self.autoRemove = autoRemove
        self.binds = binds
        self.memory = memory
        self.nanoCpus = nanoCpus
        self.pidsLimit = pidsLimit
        self.readonlyRootfs = readonlyRootfs
        self.networkMode = networkMode
        self.privileged = privileged
        self.cgroupParent = cgroupParent
        self.cgroup = cgroup
        self.restartPolicy = restartPolicy
    }

    enum CodingKeys: String, CodingKey {
        case autoRemove = "AutoRemove", binds = "Binds", memory = "Memory", nanoCpus = "NanoCpus"
        case pidsLimit = "PidsLimit", readonlyRootfs = "ReadonlyRootfs", networkMode = "NetworkMode"
        case privileged = "Privileged", cgroupParent = "CgroupParent", cgroup = "Cgroup"
        case restartPolicy = "RestartPolicy"
    }
}

/// `--restart`: what the monitor does when the container's process ends.
public struct RestartPolicy: Codable, Sendable, Equatable {
    /// "no", "on-failure", "always" or "unless-stopped".
    public var name: String
    /// For on-failure: at most this many restarts; 0 means no limit.
    public var maximumRetryCount: Int

    public init(name: String = "no", maximumRetryCount: Int = 0) {
        self.name = name
        self.maximumRetryCount = maximumRetryCount
    }

    /// `no`, `on-failure[:N]`, `always`, `unless-stopped`; nil for anything else.
    public static func parse(_ text: String) -> RestartPolicy? {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "no", "always", "unless-stopped":
            return parts.count == 1 ? RestartPolicy(name: parts[0]) : nil
        case "on-failure":
            guard parts.count == 2 else { return RestartPolicy(name: "on-failure") }
            guard let count = Int(parts[1]), count >= 0 else { return nil }
            return RestartPolicy(name: "on-failure", maximumRetryCount: count)
        default:
            return nil
        }
    }

    /// Whether a container that ended with `exitCode` after `restarts` restarts is started again.
    /// A container stopped on purpose (`stop`, `kill`, `rm -f`) never is.
    public func shouldRestart(exitCode: Int32, restarts: Int, stoppedByUser: Bool) -> Bool {
        guard !stoppedByUser else { return false }
        switch name {
        case "always", "unless-stopped": return true
        case "on-failure": return exitCode != 0 && (maximumRetryCount == 0 || restarts < maximumRetryCount)
        default: return false
        }
    }

    /// The wait before restart number `restarts + 1`: 100 ms doubling, at most a minute
    /// (Docker's back-off).
    public func delayMilliseconds(restarts: Int) -> Int {
        min(60_000, 100 << min(restarts, 10))
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name", maximumRetryCount = "MaximumRetryCount"
    }
}
