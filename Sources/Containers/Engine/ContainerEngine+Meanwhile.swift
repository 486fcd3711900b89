import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// Failures that another command caused: an `exec` whose container a `stop` ended under it sees
/// ESRCH from setns, ENOMEM from a clone into a dead pid namespace or EPIPE on the setup pipe;
/// a `commit` whose container an `rm` removed sees ENOENT on its upper directory. None of those
/// words tells the user what happened, so the container is looked at again after the failure,
/// and what it shows, not the errno, decides the sentence.
extension ContainerEngine {
    /// `error`, which an operation on `record` failed with, said as what became of the
    /// container meanwhile: "container X was removed meanwhile" when its record is gone, or
    /// "container X stopped meanwhile" when its init has ended (`initPidfd`, a pidfd of the
    /// init the operation worked on) or nothing runs it any more; `error` itself otherwise.
    public func explainedFailure(_ error: any Error, of record: ContainerRecord, initPidfd: Int32? = nil) -> any Error {
        let cause = error as? ContainerError
        if !store.exists(id: record.id) {
            return ContainerError(.notFound, "container \(record.name) was removed meanwhile", cause: cause)
        }
        if let initPidfd, Self.hasEnded(pid: record.state.pid, pidfd: initPidfd) || !isRunning(record) {
            return ContainerError(.invalidState, "container \(record.name) stopped meanwhile", cause: cause)
        }
        return error
    }

    /// Whether the init of `pidfd` (pid `pid`, which the pidfd was opened from) has ended or is
    /// ending. A pidfd polls readable only once its process has ended, but an init SIGKILLed by
    /// a stop first waits for every other process of its pid namespace to die, and meanwhile
    /// already refuses setns (ESRCH) and a clone into its namespace (ENOMEM): /proc shows that
    /// as PF_EXITING in its flags.
    static func hasEnded(pid: Int32, pidfd: Int32) -> Bool {
        let exiting = isExiting(pid)
        // The pidfd is asked second: while it says the process lives, the pid read was its own.
        var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        let ended = poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLIN) != 0
        return ended || exiting
    }

    /// PF_EXITING in the flags of /proc/PID/stat (the seventh field after the command's name,
    /// which ends at the last ')': a name may hold spaces and parentheses).
    private static func isExiting(_ pid: Int32) -> Bool {
        guard pid > 0, let stat = try? FileIO.readFile("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return false }
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 6, let flags = UInt(String(decoding: fields[6], as: UTF8.self)) else { return false }
        let exiting: UInt = 0x4
        return flags & exiting != 0
    }
}
