import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `compose up` without -d: the services' output until they all end, or until SIGINT,
/// SIGTERM or SIGHUP (Ctrl-C), taken from a blocked set with sigtimedwait so that no handler
/// runs on one of the followers' threads.
enum ComposeAttachment {
    /// Follows `logs`; true when a signal ended it (the caller then stops the services).
    static func attach(_ logs: InstanceLogs) -> Bool {
        var signals = sigset_t()
        sigemptyset(&signals)
        for number in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, number) }
        // Blocked before the followers exist, so they inherit the mask and only this thread
        // takes the signals.
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        defer { pthread_sigmask(SIG_UNBLOCK, &signals, nil) }
        let state = AttachState(following: logs.instances.count)
        let follower = WorkerThread.startOrRun {
            logs.follow(stop: { state.stopped.load(ordering: .relaxed) }, ended: { state.following.subtract(1, ordering: .relaxed) })
        }
        while state.following.load(ordering: .relaxed) > 0 {
            var wait = timespec(tv_sec: 0, tv_nsec: 200_000_000)
            if sigtimedwait(&signals, nil, &wait) > 0 {
                state.stopped.store(true, ordering: .relaxed)
                break
            }
        }
        follower?.join()
        return state.stopped.load(ordering: .relaxed)
    }
}

/// What the signal-waiting thread and the followers share.
private final class AttachState: Sendable {
    let stopped = Atomic<Bool>(false)
    let following: Atomic<Int>

    init(following: Int) { self.following = Atomic(following) }
}
