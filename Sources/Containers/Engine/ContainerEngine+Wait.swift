import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `berth wait`: blocks until a container has stopped and gives its exit code. Nothing is
/// polled: a running container is waited for on a pidfd of its lock's holder
/// (`waitUntilReleased`), a created one on its directory (inotify sees its record replaced
/// when it starts).
extension ContainerEngine {
    /// How long one wait on the kernel lasts before the state is read again: a safety net for
    /// an event missed, not a poll (each round blocks on a pidfd or inotify).
    static let waitRoundMilliseconds = 60_000

    /// The exit code of the container once it is not running: at once for one that has
    /// exited; after its end for one running, paused or waiting out a restart's back-off;
    /// after its start and end for one created and not started yet.
    public func wait(_ record: ContainerRecord) throws -> Int32 {
        while true {
            let current: ContainerRecord
            do {
                current = try store.load(id: record.id)
            } catch let error as ContainerError where error.code == .notFound {
                throw ContainerError(.notFound, "container \(record.name) was removed before its end could be read")
            }
            let state = state(of: current)
            switch state.status {
            case .running, .restarting:
                _ = waitUntilReleased(current.id, milliseconds: Self.waitRoundMilliseconds)
            case .created:
                waitForRecordChange(current.id, milliseconds: Self.waitRoundMilliseconds)
            case .exited:
                guard let code = state.exitCode else {
                    throw ContainerError(.invalidState, "the end of container \(current.name) was not seen (berth was killed "
                                         + "with it): its exit code is unknown")
                }
                return code
            }
        }
    }

    /// Waits at most `milliseconds` for the container's record to be replaced (a start writes
    /// it) or its directory to go (a removal).
    private func waitForRecordChange(_ id: String, milliseconds: Int) {
        guard let watch = DirectoryWatch(store.directory(of: id), events: IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF) else {
            // No inotify (out of instances or watches): a short sleep, and the state is read again.
            _ = poll(nil, 0, 200)
            return
        }
        // The record may have changed between its read and the watch: read it again first.
        if (try? store.load(id: id))?.state.status != .created { return }
        watch.wait(milliseconds: milliseconds)
    }
}
