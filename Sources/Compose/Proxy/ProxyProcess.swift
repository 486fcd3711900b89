import CSpawn
import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// Debian's HAProxy, run for one project in master-worker mode as a daemon, so it outlives the
/// berth command that started it. Its files are in the project's state directory: haproxy.cfg,
/// haproxy.pid (the master), haproxy.sock (the admin socket) and haproxy.log (what it said at
/// start).
///
/// Supervision is HAProxy's own master plus a check by every berth command that needs it
/// (`ensureRunning`): a master whose worker dies exits (HAProxy's default), so a dead proxy is
/// always a dead pid, and the next command starts it again from the configuration berth last
/// wrote, which has every slot's current address. A detached supervisor of berth's own would be
/// one more process to keep alive and to find after a crash, for the same outcome.
public struct ProxyProcess: Sendable {
    public let directory: String
    public let executable: String

    public static let debianExecutable = "/usr/sbin/haproxy"

    public init(directory: String, executable: String = ProxyProcess.located()) {
        self.directory = directory
        self.executable = executable
    }

    /// The HAProxy berth runs: `$BERTH_HAPROXY` when set, else the first `haproxy` on PATH,
    /// else Debian's (root's PATH has /usr/sbin; a service manager's may not).
    public static func located() -> String {
        if let named { return named }
        let path = getenv("PATH").map { String(cString: $0) } ?? ""
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = String(directory) + "/haproxy"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return debianExecutable
    }

    /// `$BERTH_HAPROXY`, when set and not empty.
    private static var named: String? {
        getenv("BERTH_HAPROXY").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    public var configurationPath: String { directory + "/haproxy.cfg" }
    public var pidPath: String { directory + "/haproxy.pid" }
    public var socketPath: String { directory + "/haproxy.sock" }
    public var logPath: String { directory + "/haproxy.log" }
    public var admin: ProxyAdminSocket { ProxyAdminSocket(path: socketPath) }

    /// The master's pid when it runs (the pid file names a live haproxy process). A killed
    /// master whose parent is an init that does not reap stays a zombie: that is no proxy.
    public var runningPid: pid_t? {
        guard let bytes = try? FileIO.readFile(pidPath),
              let pid = pid_t(String(decoding: bytes, as: UTF8.self).trimmed), pid > 0,
              let stat = try? FileIO.readFile("/proc/\(pid)/stat")
        else { return nil }
        // "PID (COMM) STATE ...": the name may hold spaces and parentheses, the state follows the last ")".
        let text = String(decoding: stat, as: UTF8.self)
        guard let end = text.lastIndex(of: ")"), String(text[text.index(after: end)...]).trimmed.first != "Z",
              text.hasPrefix("\(pid) (haproxy)")
        else { return nil }
        return pid
    }

    /// Writes the configuration (checked by HAProxy first), then starts HAProxy, or has a
    /// running one reload it when `reload` (its listening sockets pass to the new worker; the
    /// old one finishes its sessions). Returns once the admin socket answers.
    public func apply(_ configuration: ProxyConfiguration, reload: Bool) throws {
        try checkInstalled()
        try write(configuration)
        if let pid = runningPid {
            guard reload else { return }
            let before = workerPid()
            guard kill(pid, SIGUSR2) == 0 else { throw ProxyError.system("cannot signal HAProxy (pid \(pid)) to reload") }
            // The new worker answers on the socket with its own pid, and has every backend.
            try waitForSocket {
                guard let now = workerPid(), now != before else { return false }
                let names = Set(((try? admin.stats()) ?? []).map(\.proxy))
                return configuration.backends.allSatisfy { names.contains($0.name) }
            }
            return
        }
        try start()
    }

    /// Writes haproxy.cfg without telling HAProxy: what it restarts from if it dies.
    public func write(_ configuration: ProxyConfiguration) throws {
        do {
            try AtomicFile.replace(configurationPath, with: Array(configuration.text.utf8), mode: 0o600, durable: true)
        } catch {
            throw ProxyError(.systemError, "cannot write \(configurationPath): \(error)")
        }
    }

    /// Starts HAProxy from the written configuration, if it is not running.
    public func ensureRunning() throws {
        guard runningPid == nil else { return }
        guard access(configurationPath, R_OK) == 0 else {
            throw ProxyError(.notFound, "no HAProxy configuration at \(configurationPath): run compose up first")
        }
        try start()
    }

    /// One clear error when HAProxy is missing.
    public func checkInstalled() throws { try Self.checkInstalled(executable) }

    /// One clear error when `executable` is not an HAProxy berth can run: what to do before
    /// anything is made for a service behind the proxy.
    public static func checkInstalled(_ executable: String = located()) throws {
        guard access(executable, X_OK) != 0 else { return }
        let why = named == nil
            ? "no haproxy on PATH, and \(executable) is missing" : "\(executable), which BERTH_HAPROXY names, is missing"
        throw ProxyError(.notFound, "HAProxy is not installed (\(why)): install Debian's haproxy package")
    }

    private func start() throws {
        try checkInstalled()
        unlink(socketPath)
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw ProxyError.system("cannot open \(logPath)") }
        defer { close(log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, log, 1)
        posix_spawn_file_actions_adddup2(&actions, log, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own session: a terminal's Ctrl-C to the berth command must not reach it.
        posix_spawnattr_setflags(&attributes, ProxyProcess.spawnSetSID)
        let arguments = [executable, "-W", "-D", "-f", configurationPath, "-p", pidPath]
        let argv = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw ProxyError.system("cannot run \(executable)", errno: rc) }
        // With -D the command returns once the master is daemonized, or fails on a bad
        // configuration or a listen address that is taken.
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw ProxyError(.invalidArgument, "HAProxy did not start: \(lastLines(of: logPath))")
        }
        try waitForSocket { workerPid() != nil }
    }

    /// The pid of the worker that answers on the admin socket (`show info`'s "Pid:").
    private func workerPid() -> String? {
        guard let info = try? admin.send("show info") else { return nil }
        return info.split(separator: "\n").first { $0.hasPrefix("Pid:") }.map { String($0.dropFirst(4)).trimmed }
    }

    /// Waits (5 s at most) until `ready` holds.
    private func waitForSocket(_ ready: () -> Bool) throws {
        let deadline = Clock.now + 5_000
        while Clock.now < deadline {
            if ready() { return }
            Clock.sleep(milliseconds: 20)
        }
        throw ProxyError(.systemError, "HAProxy started but its admin socket \(socketPath) does not answer: "
                         + lastLines(of: logPath))
    }

    /// Stops HAProxy (its master and workers), 5 s for its sessions, then SIGKILL.
    ///
    /// Through a pidfd opened while the pid file's process is known to be haproxy: the master
    /// is not berth's child, so only a pidfd both tells when it has exited (readable then,
    /// reaped or a zombie) and keeps a signal from reaching a process that reused the pid.
    public func stop() {
        guard let pid = runningPid else { return }
        let pidfd = berth_pidfd_open(pid)
        guard pidfd >= 0 else {
            // ESRCH: it ended since it was looked up.
            unlink(pidPath)
            return
        }
        defer { close(pidfd) }
        _ = berth_pidfd_send_signal(pidfd, SIGTERM)
        if !Self.waitForExit(pidfd, milliseconds: 5_000) {
            _ = berth_pidfd_send_signal(pidfd, SIGKILL)
            _ = Self.waitForExit(pidfd, milliseconds: 5_000)
        }
        unlink(pidPath)
    }

    /// Whether the process of `pidfd` exits within `milliseconds`.
    private static func waitForExit(_ pidfd: Int32, milliseconds: Int64) -> Bool {
        let deadline = Clock.now + milliseconds
        var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        while true {
            let left = deadline - Clock.now
            guard left > 0 else { return false }
            let ready = poll(&entry, 1, Int32(left))
            if ready > 0 { return true }
            if ready == 0 || errno != EINTR { return false }
        }
    }

    /// glibc's POSIX_SPAWN_SETSID, which Swift's Glibc module leaves out (it is _GNU_SOURCE's).
    private static let spawnSetSID: Int16 = 0x80

    private func lastLines(of path: String) -> String {
        guard let bytes = try? FileIO.readFile(path) else { return "(no output)" }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").suffix(3)
        return lines.isEmpty ? "(no output)" : lines.joined(separator: "; ")
    }
}

/// Milliseconds on the monotonic clock, and sleeping.
enum Clock {
    static var now: Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    static func sleep(milliseconds: Int64) {
        var left = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
        var rest = timespec()
        while nanosleep(&left, &rest) != 0 && errno == EINTR { left = rest }
    }
}
