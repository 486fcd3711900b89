import CFileSystem
import CSpawn
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `attach` and `start -a`: a running container's output from a point in its log to its end,
/// with the signals berth is sent passed on to it (Docker's `--sig-proxy`). A detached
/// container's input is not kept by its monitor, so nothing is sent to it: Docker's attach to
/// a container started without `-i`.
extension ContainerEngine {
    /// `logs -f`, `compose logs -f` and `attach`: the container's log from `start` (`emit` gets
    /// each entry) until the container no longer runs, or until `stop` (asked after each look at
    /// the log: has the reader gone?) says so. The monitor closes the log before the container
    /// stops counting as running, so what it wrote is read before this ends.
    public func followLog(of record: ContainerRecord, from start: ContainerLog.Start, stop: () -> Bool = { false },
                          linesLost: () -> Void = {}, emit: (ContainerLog.Entry) -> Void) throws {
        try ContainerLog(path: store.logPath(of: record.id)).follow(from: start, until: {
            if stop() { return true }
            guard let now = try? store.load(id: record.id) else { return true }
            return state(of: now).status != .running
        }, linesLost: linesLost, emit: emit)
    }

    /// Follows the container's log from `start` (`emit` gets each entry; `flush` is called after
    /// each look at the log) until the container is no longer running, then gives its exit code:
    /// that of its last run when it ended or waits out a restart's back-off.
    public func attach(_ record: ContainerRecord, from start: ContainerLog.Start, proxySignals: Bool,
                       flush: () -> Bool, emit: (ContainerLog.Entry) -> Void) throws -> Int32 {
        let proxy = proxySignals ? try SignalProxy(engine: self, id: record.id) : nil
        defer { proxy?.stop() }
        var readerGone = false
        try followLog(of: record, from: start, stop: {
            readerGone = !flush()
            return readerGone
        }, emit: emit)
        if readerGone { return 0 }
        let now = try store.load(id: record.id)
        let ended = state(of: now)
        if ended.status != .running, let code = ended.exitCode { return code }
        return try wait(now)
    }
}

/// The signals this process is sent, passed to a container by a thread of their own, from the
/// proxy's start to its `stop`: hangup, interrupt, quit, terminate and the two user signals,
/// the ones a user or a service manager sends to stop or poke a program. Through the engine's
/// `kill`, so Docker's rule holds: the container's stop signal is a stop by the user, which its
/// restart policy does not undo.
final class SignalProxy: @unchecked Sendable {
    static let signals: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2]

    private let signalFD: Int32
    private let stopRead: Int32
    private let stopWrite: Int32
    private var worker: WorkerThread?

    /// Blocks the signals in the calling thread, which the proxy's thread inherits: the caller
    /// has no other thread, so each of them now reaches only the signalfd.
    init(engine: ContainerEngine, id: String) throws {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in Self.signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signalFD = berth_signalfd(&set)
        guard signalFD >= 0 else { throw ContainerError.system("cannot create a signalfd to pass signals to the container") }
        var ends: [Int32] = [-1, -1]
        guard berth_pipe_cloexec(&ends) == 0 else {
            let err = errno
            close(signalFD)
            throw ContainerError.system("cannot create a pipe to pass signals to the container", errno: err)
        }
        (stopRead, stopWrite) = (ends[0], ends[1])
        worker = WorkerThread.start { [signalFD, stopRead] in
            Self.pass(from: signalFD, until: stopRead) { signal in
                guard let current = try? engine.store.load(id: id) else { return }
                try? engine.kill(current, signal: signal)
            }
        }
        if worker == nil {
            close(signalFD)
            close(stopRead)
            close(stopWrite)
            throw ContainerError(.systemError, "cannot start the thread that passes signals to the container")
        }
    }

    /// Ends the thread. The signals stay blocked: one that comes after is dropped with the
    /// process, as Docker's attach drops a signal once the container has ended.
    func stop() {
        guard let worker else { return }
        var byte: UInt8 = 1
        _ = write(stopWrite, &byte, 1)
        worker.join()
        self.worker = nil
        close(signalFD)
        close(stopRead)
        close(stopWrite)
    }

    private static func pass(from signalFD: Int32, until stopFD: Int32, to deliver: (Int32) -> Void) {
        var info = [UInt8](repeating: 0, count: 128)
        while true {
            var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0), pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            // struct signalfd_siginfo is 128 bytes; ssi_signo is its first field.
            while info.withUnsafeMutableBytes({ read(signalFD, $0.baseAddress, 128) }) == 128 {
                deliver(info.withUnsafeBytes { Int32(bitPattern: $0.load(as: UInt32.self)) })
            }
        }
    }
}
