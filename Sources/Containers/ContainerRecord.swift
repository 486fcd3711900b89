import BerthNetwork
import Runtime

/// What berth keeps about one container in `containers/<id>/config.json`, shaped like Docker's
/// `inspect` output (its key names), so `berth inspect` can print it as it is. The JSON form is
/// written by hand (ContainerRecord+JSON.swift): a start writes it twice, and Codable's generic
/// containers would cost a metadata instantiation per type in every process.
public struct ContainerRecord: Sendable, Equatable {
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
    /// The root directory of a `--rootfs` container (berth's addition); nil for an image's.
    public var rootfs: String?
    /// The record's format: `ContainerRecord.formatVersion` for the records this berth writes.
    /// Version 1 records (no launch spec; berth re-parsed the `run` command line) are still
    /// listed, inspected and removed, but cannot be started again.
    public var formatVersion: Int
    /// How many times the monitor restarted it (`--restart`) since it was last started by hand.
    public var restartCount: Int
    /// The restarts since the container last ran for ten seconds: the back-off's step.
    public var backOffStep: Int
    /// Its binds, volumes and tmpfs mounts (Docker's `Mounts`).
    public var mounts: [MountPoint] = []

    public init(id: String, name: String, created: String, path: String, args: [String], image: String,
                imageManifest: String, state: ContainerState = .init(), config: ContainerSettings,
                hostConfig: HostSettings, rootfs: String? = nil) {
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
        self.rootfs = rootfs
        formatVersion = Self.formatVersion
        restartCount = 0
        backOffStep = 0
    }

    /// The format of the records this berth writes: 2 since the launch spec (`launch.json`).
    public static let formatVersion = 2

    public var shortID: String { String(id.prefix(12)) }

    /// Whether the container runs on an image's layers (not a `--rootfs` directory).
    public var hasImage: Bool { rootfs == nil }
}

/// A container's life so far, as `ps` and `inspect` show it.
public struct ContainerState: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Ended, and waiting out its restart policy's back-off (its monitor still holds it).
        case created, running, restarting, exited
    }

    public var status: Status
    /// The container's init process on the host while it runs; 0 otherwise.
    public var pid: Int32
    /// nil until it ends, and when its end was never seen (berth was killed with it).
    public var exitCode: Int32?
    public var oomKilled: Bool
    public var startedAt: String?
    public var finishedAt: String?
    /// Running with its processes frozen (`berth pause`). Never recorded: the engine reads it
    /// from the cgroup's freezer each time it checks the state against the kernel.
    public var paused: Bool

    public init(status: Status = .created, pid: Int32 = 0, exitCode: Int32? = nil, oomKilled: Bool = false,
                startedAt: String? = nil, finishedAt: String? = nil, paused: Bool = false) {
        self.status = status
        self.pid = pid
        self.exitCode = exitCode
        self.oomKilled = oomKilled
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.paused = paused
    }

    /// Docker's State.Status: "paused" for a paused running container, else the status.
    public var statusName: String { paused ? "paused" : status.rawValue }

}

/// The process's settings, Docker's `Config`.
public struct ContainerSettings: Sendable, Equatable {
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
    /// The health check (the image's HEALTHCHECK with run's flags over it); nil for none.
    public var healthcheck: HealthCheck?
    /// `--label`/`--label-file`: what `ps --filter label=` matches.
    public var labels: [String: String] = [:]

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

}

/// How the host runs it, Docker's `HostConfig` (the part berth has).
public struct HostSettings: Sendable, Equatable {
    public var autoRemove: Bool
    public var binds: [String]
    public var memory: Int64
    public var nanoCpus: Int64
    /// `--cpu-shares` (0: not set, the kernel's 1024).
    public var cpuShares: Int64 = 0
    public var pidsLimit: Int64
    public var readonlyRootfs: Bool
    public var networkMode: String
    public var privileged: Bool
    public var cgroupParent: String
    /// The container's cgroup, relative to the hierarchy's root (berth's addition).
    public var cgroup: String
    public var restartPolicy: RestartPolicy
    /// The json-file log's rotation (`--log-opt max-size=…,max-file=…`): rotate past this many
    /// bytes (0: never), keep this many files.
    public var logMaxSize: Int64 = 10 * 1024 * 1024
    public var logMaxFiles: Int = 2
    /// `-p` and `-P`'s ports (Docker's PortBindings: "80/tcp" → host address and port).
    public var portBindings: [PortRequest] = []
    public var publishAllPorts = false
    /// `--network-alias` entries.
    public var networkAliases: [String] = []
    /// `--ip`, as given.
    public var ipAddress: String?
    /// `--userns` as given ("" when not: the host's, as Docker records it).
    public var usernsMode = ""
    /// The container's own user namespace (`--userns=auto`): its range stays taken while the
    /// record exists.
    public var userNamespace: UserNamespace?

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

}

/// `--restart`: what the monitor does when the container's process ends.
public struct RestartPolicy: Sendable, Equatable {
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

    /// The wait before a restart: 100 ms, doubling with each restart of a container that keeps
    /// failing fast, at most a minute (Docker's back-off).
    public func delayMilliseconds(step: Int) -> Int {
        min(60_000, 100 << min(step, 10))
    }

    /// The back-off step of the next restart, the last one's being `step`: a run of ten seconds
    /// or more starts the back-off over (Docker's rule).
    public static func backOffStep(after step: Int, ranSeconds: Int) -> Int { ranSeconds >= 10 ? 0 : step }
}
