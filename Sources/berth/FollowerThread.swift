#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread running one closure, for the followers (no Foundation, no Dispatch).
final class FollowerThread: @unchecked Sendable {
    private let body: @Sendable () -> Void
    private var thread = pthread_t()
    private var started = false

    init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        started = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<FollowerThread>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, context) == 0
        // Not started: the retain for the thread is given back, and the work is done here.
        if !started {
            Unmanaged<FollowerThread>.fromOpaque(context).release()
            body()
        }
    }

    func join() {
        if started { pthread_join(thread, nil) }
    }
}
