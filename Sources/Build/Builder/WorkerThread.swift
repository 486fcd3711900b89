#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread running one closure (no Foundation, no Dispatch): a stage built beside others
/// (`StageRun`) and the relay of a RUN step's labelled output (`LabeledOutput`).
final class WorkerThread: @unchecked Sendable {
    private let body: @Sendable () -> Void
    private var thread = pthread_t()

    private init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    /// `body` running on a new thread; nil when none can be made (the caller does without).
    static func start(_ body: @escaping @Sendable () -> Void) -> WorkerThread? {
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

    /// Waits for the body to return.
    func join() { pthread_join(thread, nil) }
}
