import CSpawn
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Waiting for a container's state to change without polling: on the process that holds its
/// runtime lock (a pidfd becomes readable when it exits), and on its directory (inotify tells
/// when `stop` marks it).
extension ContainerEngine {
    /// Waits until nobody holds the container's runtime lock (its berth or monitor has recorded
    /// its end and let go), at most `milliseconds`. True when it was let go.
    func waitUntilReleased(_ id: String, milliseconds: Int) -> Bool {
        let deadline = Deadline(milliseconds: milliseconds)
        while runDirectory.isHeld(id: id) {
            guard let remaining = deadline.remaining else { return false }
            // The holder's pidfd, opened while it still holds the lock, so the pid is its own.
            guard let holder = runDirectory.holder(of: id), case let pidfd = berth_pidfd_open(holder), pidfd >= 0 else {
                // Between holders (a monitor exec'ing), or a kernel without pidfds: look again soon.
                _ = poll(nil, 0, Int32(min(remaining, 10)))
                continue
            }
            defer { close(pidfd) }
            guard runDirectory.isHeld(id: id) else { return true }
            var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            // The lock goes just before its holder exits; a holder that lets go and lives on
            // (keepForRecovery) is caught by the loop's next look once it exits.
            _ = poll(&entry, 1, Int32(min(remaining, Int(Int32.max))))
        }
        return true
    }

    /// Waits at most `milliseconds` for the container to be marked as stopped on purpose
    /// (`ContainerStore.markStopping`). True when it was.
    func waitForStopRequest(_ id: String, milliseconds: Int) -> Bool {
        let deadline = Deadline(milliseconds: milliseconds)
        let watch = DirectoryWatch(store.directory(of: id), events: IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF)
        while !store.isStopping(id) {
            guard let remaining = deadline.remaining else { return false }
            guard let watch else {
                // No inotify (out of watches): the step a user would notice least.
                _ = poll(nil, 0, Int32(min(remaining, 50)))
                continue
            }
            watch.wait(milliseconds: remaining)
            // The container's directory is gone: it was removed, which is a stop too.
            if access(store.directory(of: id), F_OK) != 0 { return true }
        }
        return true
    }
}

/// inotify on one directory, for a wait that ends when something in it changes (a record
/// replaced, a stop marked, a log written) or at a deadline.
final class DirectoryWatch {
    private let fd: Int32

    /// Nil when inotify cannot watch `directory` (out of instances or watches, or no directory):
    /// the caller then waits on a clock.
    init?(_ directory: String, events: Int32) {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return nil }
        guard inotify_add_watch(fd, directory, UInt32(events)) >= 0 else {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    /// Waits until one of the events came (or at most `milliseconds`), then drains them.
    func wait(milliseconds: Int) {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, Int32(min(milliseconds, Int(Int32.max))))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}

/// A point in time on the monotonic clock, `milliseconds` from its creation.
struct Deadline {
    private let end: Int

    init(milliseconds: Int) { end = Deadline.now() + milliseconds }

    /// Milliseconds left, nil once it has passed.
    var remaining: Int? {
        let left = end - Deadline.now()
        return left > 0 ? left : nil
    }

    static func now() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
    }
}
