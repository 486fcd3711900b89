#if canImport(Glibc)
import Glibc
#endif

/// What the v1 and v2 freezers share: the deadline a freeze is given and the bounded wait for the
/// kernel to report a cgroup frozen. Freezing is asynchronous on both: each task freezes when it
/// next leaves the kernel, so a task in an uninterruptible sleep (a vfork parent, a hung NFS
/// read) can hold the whole cgroup in its transitional state.
enum CgroupFreezing {
    /// Docker gives a pause no deadline of its own; runc gives up after about a second of retries.
    /// Long enough for a busy machine, short enough that a stuck commit is not mistaken for a hang.
    static let timeout: Duration = .seconds(5)

    /// Calls `isFrozen` until it answers true or `timeout` has passed, sleeping between looks
    /// from 100 µs up to 10 ms (a few idle tasks freeze in microseconds). Returns its last answer.
    static func wait(timeout: Duration, until isFrozen: () throws(RuntimeError) -> Bool) throws(RuntimeError) -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var delayMicros: UInt32 = 100
        while true {
            if try isFrozen() { return true }
            if ContinuousClock.now >= deadline { return false }
            usleep(delayMicros)
            delayMicros = min(delayMicros * 2, 10_000)
        }
    }

    /// The sentence of a freeze that did not finish in time; the cgroup has been thawed again.
    static func timedOut(_ path: CgroupPath, after timeout: Duration) -> RuntimeError {
        RuntimeError(.systemError,
                     "cannot pause cgroup \(path): its processes did not all freeze within \(timeout.wholeMilliseconds) ms "
                         + "(one may be in an uninterruptible sleep); they were thawed again",
                     errno: EBUSY)
    }
}

/// The words of the v1 `freezer.state` file.
enum FreezerState {
    static let frozen = "FROZEN"
    /// Transitional: some tasks have not frozen yet.
    static let freezing = "FREEZING"
    static let thawed = "THAWED"
}
