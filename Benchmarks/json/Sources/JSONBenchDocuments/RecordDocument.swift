import Containers

/// The container record as a Codable struct with Docker's keys, the same JSON that
/// ContainerRecord+JSON.swift reads and writes by hand. The product has no Codable form of the
/// record (on purpose, for start-up); this one exists so the benchmark can put JSONDecoder and
/// berth's Codable layer on the record too, converting to and from `ContainerRecord` as a switch
/// would have to.
struct RecordDocument: Codable {
    struct State: Codable {
        var status: String
        var running, paused, restarting, oomKilled, dead: Bool
        var pid: Int32
        var exitCode: Int32?
        var startedAt, finishedAt: String?

        enum CodingKeys: String, CodingKey {
            case status = "Status", running = "Running", paused = "Paused", restarting = "Restarting"
            case oomKilled = "OOMKilled", dead = "Dead", pid = "Pid", exitCode = "ExitCode"
            case startedAt = "StartedAt", finishedAt = "FinishedAt"
        }
    }

    struct Settings: Codable {
        var image, hostname, user: String
        var env: [String]
        var cmd, entrypoint: [String]?
        var workingDir: String
        var tty, openStdin: Bool
        var stopSignal: String?

        enum CodingKeys: String, CodingKey {
            case image = "Image", hostname = "Hostname", user = "User", env = "Env", cmd = "Cmd"
            case entrypoint = "Entrypoint", workingDir = "WorkingDir", tty = "Tty", openStdin = "OpenStdin"
            case stopSignal = "StopSignal"
        }
    }

    struct Policy: Codable {
        var name: String
        var maximumRetryCount: Int

        enum CodingKeys: String, CodingKey { case name = "Name", maximumRetryCount = "MaximumRetryCount" }
    }

    struct LogConfig: Codable {
        struct Options: Codable {
            var maxSize, maxFile: String

            enum CodingKeys: String, CodingKey { case maxSize = "max-size", maxFile = "max-file" }
        }

        var type: String
        var config: Options

        enum CodingKeys: String, CodingKey { case type = "Type", config = "Config" }
    }

    struct Host: Codable {
        var autoRemove: Bool
        var binds: [String]
        var memory, nanoCpus, pidsLimit: Int64
        var readonlyRootfs: Bool
        var networkMode: String
        var privileged: Bool
        var cgroupParent, cgroup: String
        var restartPolicy: Policy
        var logConfig: LogConfig

        enum CodingKeys: String, CodingKey {
            case autoRemove = "AutoRemove", binds = "Binds", memory = "Memory", nanoCpus = "NanoCpus"
            case pidsLimit = "PidsLimit", readonlyRootfs = "ReadonlyRootfs", networkMode = "NetworkMode"
            case privileged = "Privileged", cgroupParent = "CgroupParent", cgroup = "Cgroup"
            case restartPolicy = "RestartPolicy", logConfig = "LogConfig"
        }
    }

    var id, name, created, path: String
    var args: [String]
    var image, imageManifest: String
    var state: State
    var config: Settings
    var hostConfig: Host
    var rootfs: String?
    var restartCount, backOffStep: Int
    var berthRecordVersion: Int

    enum CodingKeys: String, CodingKey {
        case id = "Id", name = "Name", created = "Created", path = "Path", args = "Args", image = "Image"
        case imageManifest = "ImageManifest", state = "State", config = "Config", hostConfig = "HostConfig"
        case rootfs = "Rootfs", restartCount = "RestartCount", backOffStep = "BackOffStep"
        case berthRecordVersion = "BerthRecordVersion"
    }
}

extension RecordDocument {
    init(_ r: ContainerRecord) {
        let s = r.state, c = r.config, h = r.hostConfig
        self.init(
            id: r.id, name: r.name, created: r.created, path: r.path, args: r.args, image: r.image,
            imageManifest: r.imageManifest,
            state: State(status: s.status.rawValue, running: s.status == .running, paused: false,
                         restarting: s.status == .restarting, oomKilled: s.oomKilled, dead: false, pid: s.pid,
                         exitCode: s.exitCode, startedAt: s.startedAt, finishedAt: s.finishedAt),
            config: Settings(image: c.image, hostname: c.hostname, user: c.user, env: c.env, cmd: c.cmd,
                             entrypoint: c.entrypoint, workingDir: c.workingDir, tty: c.tty, openStdin: c.openStdin,
                             stopSignal: c.stopSignal),
            hostConfig: Host(autoRemove: h.autoRemove, binds: h.binds, memory: h.memory, nanoCpus: h.nanoCpus,
                             pidsLimit: h.pidsLimit, readonlyRootfs: h.readonlyRootfs, networkMode: h.networkMode,
                             privileged: h.privileged, cgroupParent: h.cgroupParent, cgroup: h.cgroup,
                             restartPolicy: Policy(name: h.restartPolicy.name,
                                                   maximumRetryCount: h.restartPolicy.maximumRetryCount),
                             logConfig: LogConfig(type: "json-file",
                                                  config: .init(maxSize: String(h.logMaxSize), maxFile: String(h.logMaxFiles)))),
            rootfs: r.rootfs, restartCount: r.restartCount, backOffStep: r.backOffStep,
            berthRecordVersion: r.formatVersion)
    }

    /// The record, or nil where the hand-written reader would throw (an unknown status).
    var record: ContainerRecord? {
        guard let status = ContainerState.Status(rawValue: state.status) else { return nil }
        let ended = status == .exited || status == .restarting
        var host = HostSettings(
            autoRemove: hostConfig.autoRemove, binds: hostConfig.binds, memory: hostConfig.memory,
            nanoCpus: hostConfig.nanoCpus, pidsLimit: hostConfig.pidsLimit, readonlyRootfs: hostConfig.readonlyRootfs,
            networkMode: hostConfig.networkMode, privileged: hostConfig.privileged, cgroupParent: hostConfig.cgroupParent,
            cgroup: hostConfig.cgroup,
            restartPolicy: RestartPolicy(name: hostConfig.restartPolicy.name,
                                         maximumRetryCount: hostConfig.restartPolicy.maximumRetryCount))
        if let size = Int64(hostConfig.logConfig.config.maxSize) { host.logMaxSize = size }
        if let files = Int(hostConfig.logConfig.config.maxFile) { host.logMaxFiles = files }
        var r = ContainerRecord(
            id: id, name: name, created: created, path: path, args: args, image: image, imageManifest: imageManifest,
            state: ContainerState(status: status, pid: state.pid, exitCode: ended ? state.exitCode : nil,
                                  oomKilled: state.oomKilled, startedAt: state.startedAt, finishedAt: state.finishedAt),
            config: ContainerSettings(image: config.image, hostname: config.hostname, user: config.user, env: config.env,
                                      cmd: config.cmd, entrypoint: config.entrypoint, workingDir: config.workingDir,
                                      tty: config.tty, openStdin: config.openStdin, stopSignal: config.stopSignal),
            hostConfig: host, rootfs: rootfs)
        r.restartCount = restartCount
        r.backOffStep = backOffStep
        return r
    }
}

/// One json-file log line as a Codable struct, for the same comparison on `berth logs`.
struct LogLineDocument: Codable {
    var log: String
    var stream: String
    var time: String?
}
