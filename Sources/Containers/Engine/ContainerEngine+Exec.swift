import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// What `berth exec` asks for: a command and the settings it changes from the container's own.
public struct ExecRequest: Sendable {
    public var command: [String]
    public var interactive = false
    public var tty = false
    /// `-e` entries over the container's environment (`NAME` alone takes the caller's value).
    public var env: [String] = []
    public var workdir: String?
    public var user: String?

    public init(command: [String]) { self.command = command }
}

extension ContainerEngine {
    /// Runs a command inside a running container, in the foreground, with the container's
    /// namespaces, cgroup, user, environment, working directory and security settings (from its
    /// launch spec), the request's over them; `-t` gives it a pty from the container's devpts.
    /// Returns the command's exit code (128+N for signal N).
    public func exec(_ record: ContainerRecord, _ request: ExecRequest) throws -> Int32 {
        let pidfd = try openInit(record)
        defer { close(pidfd) }
        // Docker's refusal: the command would join the frozen cgroup and hang, frozen with it.
        if hasFrozenCgroup(record) {
            throw ContainerError(.invalidState, "container \(record.name) is paused: unpause it first (berth unpause \(record.name))")
        }
        let root = "/proc/\(record.state.pid)/root"
        let config: ContainerConfig
        let stdio: CallerStdio
        do {
            config = try execConfig(record, request, root: root)
            stdio = try CallerStdio(terminal: request.tty, interactive: request.interactive, containerRoot: root)
        } catch {
            throw explainedFailure(error, of: record, initPidfd: pidfd)
        }
        defer { stdio.close() }
        let process: LaunchedContainer
        do {
            process = try launcher(cgroupParent: record.hostConfig.cgroupParent)
                .exec(config, joining: pidfd, cgroup: CgroupPath(record.hostConfig.cgroup), io: stdio.io)
        } catch {
            // A stop or rm racing this exec ends the init while the process joins it.
            throw explainedFailure(error, of: record, initPidfd: pidfd)
        }
        defer { if process.pidfd >= 0 { close(process.pidfd) } }
        let status = try ContainerSupervisor(container: process, terminal: stdio.terminal,
                                             relayStdin: request.interactive).wait()
        return status.code
    }

    /// The container's own settings (its launch spec), then exec's over them.
    func execConfig(_ record: ContainerRecord, _ request: ExecRequest, root: String) throws -> ContainerConfig {
        var config = try store.launchConfig(of: record)
        config.rootfs = root
        config.args = request.command
        // The init of a `container:` container lives in the other's network namespace: joined
        // like the rest (the host's stays the host's).
        if record.hostConfig.networkMode.hasPrefix("container:") { config.namespaces.insert(.network) }
        config.useInit = false
        config.terminal = request.tty
        if let user = request.user {
            config.user = try UserSpec.resolve(user, roots: [root])
            // The user's capabilities: root's effective set, none for another uid (Docker's rule).
            if let bounding = config.capabilities?.bounding {
                config.capabilities = ProcessCapabilities.forUser(uid: config.user.uid, set: bounding)
            }
            // HOME follows the user, unless the container set it itself.
            if !record.config.env.contains(where: { $0.hasPrefix("HOME=") }) {
                let home = UserSpec.home(of: config.user.uid, roots: [root]) ?? (config.user.uid == 0 ? "/root" : "/")
                config.env = EnvironmentFlags.applying([("HOME", home)], to: config.env)
            }
        }
        if let workdir = request.workdir { config.workingDirectory = workdir }
        config.env.removeAll { $0.hasPrefix("TERM=") }
        if request.tty { config.env.append("TERM=xterm") }
        config.env = EnvironmentFlags.applying(EnvironmentFlags.resolve(request.env), to: config.env)
        return config
    }
}
