import Logging
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// One foreground container from start to cleanup: its runtime record, terminal, launch, the
/// wait, the OOM verdict, and the removal of everything it had, on every path.
struct ContainerSession {
    let runtime: HostRuntime
    let config: ContainerConfig
    let interactive: Bool

    /// Prints the setup plan (`--debug`), bubblewrap style.
    func printPlan() {
        let io = LaunchIO(stdin: 0, stdout: 1, stderr: 2, terminalPath: config.terminal ? "/dev/pts/N" : nil)
        Output.writeLine(STDERR_FILENO, "container \(config.id.prefix(12)): \(config.args.joined(separator: " "))")
        for (i, op) in runtime.launcher.mountPlan(for: config, io: io).enumerated() {
            Output.writeLine(STDERR_FILENO, "  \(i): \(op)")
        }
    }

    /// How a container ended.
    struct Outcome {
        /// berth's exit code: the command's, 128+N for signal N.
        let exitCode: Int32
        let oomKilled: Bool
    }

    /// Runs the container to its end. `started` is told the container's pid once it runs.
    func run(started: (pid_t) -> Void = { _ in }) throws -> Outcome {
        let cgroup = runtime.launcher.cgroupPath(for: config.id)
        let lease = try runtime.runDirectory.register(id: config.id, cgroup: cgroup)
        var cgroupRemoved = true   // the launcher removes the cgroup itself when launching fails
        defer { cgroupRemoved ? lease.release() : lease.keepForRecovery() }

        let terminal = config.terminal ? try PseudoTerminal() : nil
        defer { terminal?.closeMaster() }
        let io: LaunchIO
        var devNull: Int32 = -1
        if let terminal {
            io = LaunchIO(stdin: terminal.slave, stdout: terminal.slave, stderr: terminal.slave,
                          terminalPath: terminal.slavePath)
        } else {
            // Without -i the container reads nothing: Docker gives it an empty stdin too.
            if !interactive {
                devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
                guard devNull >= 0 else { throw RuntimeError.system("cannot open /dev/null") }
            }
            io = LaunchIO(stdin: interactive ? STDIN_FILENO : devNull, stdout: STDOUT_FILENO, stderr: STDERR_FILENO)
        }
        defer { if devNull >= 0 { close(devNull) } }

        // Raw mode only when the user's keystrokes go to the container.
        let rawMode = terminal != nil && interactive ? RawTerminalMode(fd: STDIN_FILENO) : nil
        defer { rawMode?.restore() }

        let container: LaunchedContainer
        do {
            container = try runtime.launcher.launch(config, io: io)
        } catch {
            rawMode?.restore()
            throw error
        }
        defer { if container.pidfd >= 0 { close(container.pidfd) } }
        started(container.pid)

        let status: ExitStatus
        do {
            status = try ContainerSupervisor(container: container, terminal: terminal, relayStdin: interactive).wait()
        } catch {
            cgroupRemoved = removeCgroup(container)
            throw error
        }
        rawMode?.restore()
        let oomKilled = status == .signaled(SIGKILL)
            && ((try? runtime.cgroups.events(of: container.cgroup).oomKills) ?? 0) > 0
        cgroupRemoved = removeCgroup(container)
        return Outcome(exitCode: exitCode(status, oomKilled: oomKilled), oomKilled: oomKilled)
    }

    /// Removes the container's cgroup (killing whatever is left in it). False when that failed:
    /// the record then stays for the next berth command to retry.
    private func removeCgroup(_ container: LaunchedContainer) -> Bool {
        do {
            try runtime.cgroups.destroy(container.cgroup)
            return true
        } catch {
            runtime.logger.warning("cannot remove the container's cgroup; the next berth command retries",
                                   metadata: ["cgroup": "\(container.cgroup)", "error": "\(error)"])
            return false
        }
    }

    /// The container's status as berth's exit code; an OOM kill is said in words too.
    private func exitCode(_ status: ExitStatus, oomKilled: Bool) -> Int32 {
        if oomKilled {
            let limit = config.resources.memoryBytes.map { " (limit \(ByteSize.describe($0)))" } ?? ""
            Output.error("killed: out of memory\(limit)")
            return 137
        }
        return status.code
    }
}
