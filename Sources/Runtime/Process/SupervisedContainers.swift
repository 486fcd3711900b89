import CSpawn
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The containers this process supervises in the foreground at once: one for `run` and `exec`,
/// several while a build runs stages concurrently (a RUN step's container each). A process-directed
/// signal is read by one signalfd only, so the supervisor that reads it passes it to all of them:
/// a Ctrl-C stops every RUN step, not one. A stop signal is also remembered: a container
/// supervised after it gets it at once, and a builder asks `stopSignal` before its next step.
/// A container registered with `killOnStop` (a build's RUN step) is killed by a stop signal
/// instead, as Docker's builder kills the step of a cancelled build: a shell waiting on its
/// command takes a SIGINT only once that command has ended.
public enum SupervisedContainers {
    /// The signals that tell berth to stop.
    public static let stopSignals: Set<Int32> = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    private struct Entry {
        let token: Int
        let pid: pid_t
        let pidfd: Int32
        let killOnStop: Bool
    }

    private struct State {
        /// An array, not a dictionary by token: a handful at most, and a dictionary's first use
        /// costs a run-time conformance lookup on every run's path.
        var entries: [Entry] = []
        var next = 0
        var stopSignal: Int32?
    }

    private static let state = Mutex(State())

    /// The first stop signal a supervisor of this process forwarded; nil when none came.
    public static var stopSignal: Int32? { state.withLock { $0.stopSignal } }

    /// Adds a container (its supervisor's loop runs from now); it is sent the stop signal at once
    /// when one came before it. Returns what `unregister` takes.
    static func register(pid: pid_t, pidfd: Int32, killOnStop: Bool) -> Int {
        state.withLock { state in
            let token = state.next
            state.next += 1
            let entry = Entry(token: token, pid: pid, pidfd: pidfd, killOnStop: killOnStop)
            state.entries.append(entry)
            if let signal = state.stopSignal { send(signal, to: entry, own: true) }
            return token
        }
    }

    /// Removes a container before its supervisor returns (and its pidfd is closed): under the
    /// lock `forward` holds, so no signal goes to a pidfd that is being closed.
    static func unregister(_ token: Int) {
        state.withLock { $0.entries.removeAll { $0.token == token } }
    }

    /// Sends `signal`, which the supervisor of `own` read, to every container supervised now.
    static func forward(_ signal: Int32, own token: Int) {
        state.withLock { state in
            if stopSignals.contains(signal), state.stopSignal == nil { state.stopSignal = signal }
            for entry in state.entries { send(signal, to: entry, own: entry.token == token) }
        }
    }

    /// Through the pidfd when there is one: a pid could have been reused, a pidfd cannot. Only a
    /// supervisor's own container (not reaped while its loop runs) is signalled by pid.
    private static func send(_ signal: Int32, to entry: Entry, own: Bool) {
        let signal = entry.killOnStop && stopSignals.contains(signal) ? SIGKILL : signal
        if entry.pidfd >= 0, berth_pidfd_send_signal(entry.pidfd, signal) == 0 { return }
        if own { kill(entry.pid, signal) }
    }
}
