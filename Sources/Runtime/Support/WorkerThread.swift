#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread running one closure (no Foundation, no Dispatch): a build's concurrent stages
/// and their labelled output, the log followers of `compose logs -f` and a build's live view,
/// and the removal of a `--rm` container's record while its cgroup is removed.
public final class WorkerThread: @unchecked Sendable {
    private let body: @Sendable () -> Void
    private var thread = pthread_t()

    private init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    /// `body` running on a new thread; nil when none can be made (the caller does without).
    public static func start(_ body: @escaping @Sendable () -> Void) -> WorkerThread? {
        let worker = WorkerThread(body)
        // The thread's own reference, given back when its body returns (or here, when it never starts).
        let context = Unmanaged.passRetained(worker).toOpaque()
        let created = pthread_create(&worker.thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<WorkerThread>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<WorkerThread>.fromOpaque(context).release()
            return nil
        }
        return worker
    }

    /// `body` on a new thread, or run here before this returns when no thread can be made: for
    /// work that must be done either way.
    public static func startOrRun(_ body: @escaping @Sendable () -> Void) -> WorkerThread? {
        guard let worker = start(body) else {
            body()
            return nil
        }
        return worker
    }

    /// Waits for the body to return.
    public func join() { pthread_join(thread, nil) }
}
