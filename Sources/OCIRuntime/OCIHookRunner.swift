import BerthErrors
import CFileSystem
import JSON
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Runs a spec's hooks as the runtime spec says: each program in order, with the container's
/// state as JSON on its stdin; a hook that fails or outlives its `timeout` (seconds) fails the
/// operation (the poststop ones only warn). prestart, createRuntime, poststart and poststop run
/// in the runtime's namespaces; createContainer and startContainer in the container's
/// (`runInContainer`).
enum OCIHookRunner {
    /// A hook with no timeout still gets a bound: a hook that never returns must not hold the
    /// runtime (and containerd's call to it) forever.
    static let defaultTimeout: Duration = .seconds(120)

    /// fcntl's F_SETPIPE_SZ, which Glibc declares only with _GNU_SOURCE.
    private static let setPipeSize: Int32 = 1031

    static func run(_ hooks: [OCIRuntimeSpec.Hook]?, stage: String, state: JSONValue) throws {
        for hook in hooks ?? [] { try run(hook, stage: stage, state: state.serialized()) }
    }

    static func run(_ hook: OCIRuntimeSpec.Hook, stage: String, state: String) throws {
        try checkPath(of: hook, stage: stage)
        var input: [Int32] = [-1, -1]
        guard berth_pipe_cloexec(&input) == 0 else { throw RuntimeError.system("cannot make the \(stage) hook's stdin pipe") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        let argv = hook.args ?? [hook.path]
        let env = hook.env ?? []
        var pid: pid_t = 0
        let rc = withCStrings(argv) { args in
            withCStrings(env) { envp in posix_spawn(&pid, hook.path, &actions, nil, args, envp) }
        }
        close(input[0])
        guard rc == 0 else {
            close(input[1])
            throw RuntimeError(.systemError, "cannot run the \(stage) hook \(hook.path)", errno: rc)
        }
        // The state is small (far below a pipe's buffer); a hook that never reads it still ends.
        _ = state.utf8CString.withUnsafeBufferPointer { write(input[1], $0.baseAddress, $0.count - 1) }
        close(input[1])
        try finish(hook, pid: pid, stage: stage)
    }

    /// Runs `hooks` inside the container whose process `pidfd` refers to: each in that process's
    /// namespaces and in `cgroup`, as `base` describes the process (its user, capabilities,
    /// seccomp and working directory), with the hook's own program, arguments and environment.
    /// Its path is looked up in the mount namespace it enters: the runtime's view before the
    /// container's pivot_root (createContainer), the container's after (startContainer).
    static func runInContainer(_ hooks: [OCIRuntimeSpec.Hook], stage: String, state: JSONValue, base: ContainerConfig,
                               joining pidfd: Int32, cgroup: CgroupPath, launcher: Launcher) throws {
        let text = state.serialized()
        for hook in hooks {
            try checkPath(of: hook, stage: stage)
            var config = base
            config.args = (hook.args ?? []).isEmpty ? [hook.path] : hook.args ?? []
            config.env = hook.env ?? []
            config.executable = hook.path
            config.terminal = false
            config.useInit = false
            var input: [Int32] = [-1, -1]
            guard berth_pipe_cloexec(&input) == 0 else { throw RuntimeError.system("cannot make the \(stage) hook's stdin pipe") }
            // Written before the hook starts, so a hook that ends without reading it cannot raise
            // SIGPIPE here: the pipe's buffer is made to hold it all (many annotations may pass 64 KiB).
            let size = text.utf8.count
            if size > 65_536 { _ = fcntl(input[1], setPipeSize, Int32(clamping: size)) }
            _ = text.utf8CString.withUnsafeBufferPointer { write(input[1], $0.baseAddress, $0.count - 1) }
            close(input[1])
            let launched: LaunchedContainer
            do {
                defer { close(input[0]) }
                launched = try launcher.exec(config, joining: pidfd, cgroup: cgroup,
                                             io: LaunchIO(stdin: input[0], stdout: STDOUT_FILENO, stderr: STDERR_FILENO))
            } catch {
                throw RuntimeError(.systemError, "cannot run the \(stage) hook \(hook.path) in the container: \(error)")
            }
            if launched.pidfd >= 0 { close(launched.pidfd) }
            try finish(hook, pid: launched.pid, stage: stage)
        }
    }

    private static func checkPath(of hook: OCIRuntimeSpec.Hook, stage: String) throws {
        guard hook.path.hasPrefix("/") else {
            throw RuntimeError(.invalidArgument, "the \(stage) hook \(hook.path) must be an absolute path")
        }
    }

    /// Waits for the hook's process within its timeout; anything but exit status 0 fails.
    private static func finish(_ hook: OCIRuntimeSpec.Hook, pid: pid_t, stage: String) throws {
        let timeout = hook.timeout.map { Duration.seconds($0) } ?? defaultTimeout
        let status = try wait(pid, timeout: timeout, what: "the \(stage) hook \(hook.path)")
        guard status == .exited(0) else {
            let how = switch status {
            case .exited(let code): "exit status \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
            throw RuntimeError(.systemError, "the \(stage) hook \(hook.path) failed (\(how)): the container's "
                               + "\(stage == "poststop" ? "removal" : "start") goes no further")
        }
    }

    /// Waits for `pid`, killing it when `timeout` has passed.
    static func wait(_ pid: pid_t, timeout: Duration, what: String) throws -> ExitStatus {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { return ExitStatus(waitStatus: status) }
            if reaped < 0 && errno != EINTR { throw RuntimeError.system("cannot wait for \(what)") }
            if clock.now >= deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw RuntimeError(.systemError, "\(what) did not finish within its timeout of \(timeout) and was killed")
            }
            usleep(2_000)
        }
    }
}

/// Calls `body` with a C array of `strings` (NULL-terminated), valid only during the call.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var copies = strings.map { strdup($0) }
    copies.append(nil)
    defer { copies.forEach { free($0) } }
    return body(copies)
}
