import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// The health checks of a container run in the foreground, which has no monitor to run them:
/// one `berth health-check --loop ID` process beside the run, started once the container
/// runs. It holds no fd of the run's (so not the container's lock) and ends with the container.
extension ContainerEngine {
    /// Starts the loop for `record`'s container when it has a check; its pid, or nil (no check,
    /// or the loop could not start: the run goes on without checks, as its log says).
    func startHealthChecks(of record: ContainerRecord) -> pid_t? {
        guard record.config.healthcheck?.command != nil else { return nil }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard devNull >= 0 else { return nil }
        defer { close(devNull) }
        do {
            let berth = try monitorPrograms().berth
            return try spawnDetached([berth] + forwardedArguments + ["health-check", "--loop", record.id], readyFD: devNull)
        } catch {
            logger.warning("the container's health checks cannot run", metadata: ["container": "\(record.shortID)", "error": "\(error)"])
            return nil
        }
    }

    /// `berth health-check --loop ID`: runs the container's check on its interval (measured from
    /// the end of the previous one) until the container ends.
    public func runHealthChecks(id: String) throws {
        let record = try store.load(id: id)
        guard let check = record.config.healthcheck, check.command != nil else { return }
        let pidfd = try openInit(record)
        defer { close(pidfd) }
        let interval = Int32(clamping: max(1, check.effectiveInterval / 1_000_000))
        // Bounded by the container's life, and by a count no container outlives at 1 ms.
        for _ in 0..<Int32.max {
            var end = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&end, 1, interval)
            if ready > 0 || (ready < 0 && errno != EINTR) { return }
            if ready == 0 { try? runHealthCheck(id: id) }
        }
    }
}
