import CFileSystem
import Runtime
#if canImport(Glibc)
import Glibc
#endif

extension ContainerEngine {
    /// `berth health-check ID` (run by the container's monitor on its interval): runs the
    /// container's check once, inside it (as `exec` would, so in its namespaces and cgroup: it
    /// dies with the container), kills it at the timeout, and records the result in the
    /// container's `health.json`. A container that is not running, paused, or has no check is
    /// left alone.
    public func runHealthCheck(id: String) throws {
        let record = try store.load(id: id)
        guard let check = record.config.healthcheck, let command = check.command else { return }
        guard isRunning(record), !hasFrozenCgroup(record) else { return }
        let pidfd = try openInit(record)
        defer { close(pidfd) }
        let start = Timestamp.now()
        let startSeconds = Timestamp.parse(start) ?? 0
        let (exitCode, output) = runCheckProcess(record, command: command, initPidfd: pidfd,
                                                 timeoutMilliseconds: Int(check.effectiveTimeout / 1_000_000))
        // A check the container's end cut short says nothing of its health.
        guard initIsAlive(pidfd) else { return }
        let result = HealthState.Result(start: start, end: Timestamp.now(), exitCode: exitCode, output: output)
        let startedAt = Timestamp.parse(record.state.startedAt ?? "") ?? 0
        let inStartPeriod = Int64(startSeconds - startedAt) * 1_000_000_000 < check.startPeriod
        let current = store.health(of: id) ?? HealthState()
        store.writeHealth(current.recording(result, retries: check.effectiveRetries, inStartPeriod: inStartPeriod), of: id)
    }

    /// The check's exit code (-1 when it could not run or ran out of time) and at most
    /// `HealthState.maximumOutput` bytes of its stdout and stderr together.
    private func runCheckProcess(_ record: ContainerRecord, command: [String], initPidfd: Int32,
                                 timeoutMilliseconds: Int) -> (Int32, String) {
        var fds: [Int32] = [-1, -1]
        guard berth_pipe_cloexec(&fds) == 0 else { return (-1, "cannot create a pipe for the health check") }
        var readEnd: Int32 = fds[0]
        defer { if readEnd >= 0 { close(readEnd) } }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if devNull >= 0 { close(devNull) } }
        let process: LaunchedContainer
        do {
            defer { close(fds[1]) }
            let config = try execConfig(record, ExecRequest(command: command), root: "/proc/\(record.state.pid)/root")
            process = try launcher(cgroupParent: record.hostConfig.cgroupParent)
                .exec(config, joining: initPidfd, cgroup: CgroupPath(record.hostConfig.cgroup),
                      io: LaunchIO(stdin: devNull, stdout: fds[1], stderr: fds[1]))
        } catch {
            return (-1, "the health check could not run: \(error)")
        }
        defer { if process.pidfd >= 0 { close(process.pidfd) } }
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
        var output: [UInt8] = []
        var timedOut = false
        let deadline = monotonicMilliseconds() + timeoutMilliseconds
        var exited = false
        // Bounded by the deadline: every pass either reads, sees the end, or waits for the time left.
        while !exited {
            let left = deadline - monotonicMilliseconds()
            if left <= 0 {
                timedOut = true
                Glibc.kill(process.pid, SIGKILL)
                break
            }
            // A negative fd is skipped by poll: the pipe once at its end.
            var polled = [pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0),
                          pollfd(fd: process.pidfd, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&polled, 2, Int32(min(left, 1000)))
            if ready < 0 && errno != EINTR { break }
            if readEnd >= 0 && polled[0].revents != 0 && !readInto(&output, from: readEnd) {
                close(readEnd)
                readEnd = -1
            }
            if polled[1].revents != 0 { exited = true }
        }
        var status: Int32 = 0
        while waitpid(process.pid, &status, 0) < 0 && errno == EINTR {}
        if readEnd >= 0 { _ = readInto(&output, from: readEnd) }
        if timedOut {
            return (-1, "Health check exceeded timeout (\(GoDuration.describe(Int64(timeoutMilliseconds) * 1_000_000)))")
        }
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, String(decoding: output, as: UTF8.self))
    }

    /// Reads what is there into `output`, keeping at most `HealthState.maximumOutput` bytes and
    /// draining the rest (a check that writes much must not block on a full pipe). False at EOF.
    private func readInto(_ output: inout [UInt8], from fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<256 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return false }
            if n < 0 { return errno == EAGAIN || errno == EINTR }
            let room = HealthState.maximumOutput - output.count
            if room > 0 { output += buffer[0..<min(n, room)] }
        }
        return true
    }

    private func initIsAlive(_ pidfd: Int32) -> Bool {
        var polled = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        return poll(&polled, 1, 0) == 0
    }

    private func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }
}
