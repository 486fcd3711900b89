import CSpawn
#if canImport(Glibc)
import Glibc
#endif

/// Stays with a launched container until it exits: forwards berth's signals to it (and to the
/// other containers this process supervises at once, `SupervisedContainers`), relays a pty's
/// I/O, follows the window size, and collects the exit status. Single-threaded: one poll loop
/// over a signalfd, the pidfd and the terminal fds.
public struct ContainerSupervisor {
    /// Signals a user sends berth that are meant for the container.
    public static let forwardedSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]

    /// Blocks the signals the supervisor takes through its signalfd. Call it before any thread
    /// or supervised process exists, so every thread inherits the mask and no signal is
    /// delivered the default way (killing berth and, through PDEATHSIG, the container). The
    /// child's setup restores an empty mask before exec.
    public static func blockSignals() {
        var set = supervisedSignals
        pthread_sigmask(SIG_BLOCK, &set, nil)
        // A closed stdout must not kill berth while it relays output: write returns EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Undoes `blockSignals` for a command that supervises containers only for a while (the
    /// builds `compose up` makes first, before it waits on health checks): a signal that came
    /// meanwhile is delivered the default way then.
    public static func unblockSignals() {
        var set = supervisedSignals
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    private static var supervisedSignals: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in forwardedSignals + [SIGCHLD, SIGWINCH] { sigaddset(&set, s) }
        return set
    }

    private let container: LaunchedContainer
    private let terminal: PseudoTerminal?
    private let relayStdin: Bool
    private let killOnStop: Bool

    /// - Parameters:
    ///   - terminal: the container's pty (`-t`); its output is copied to berth's stdout.
    ///   - relayStdin: copy berth's stdin into the pty (`-it`).
    ///   - killOnStop: a stop signal (Ctrl-C) kills the container instead (a build's RUN step).
    public init(container: LaunchedContainer, terminal: PseudoTerminal?, relayStdin: Bool, killOnStop: Bool = false) {
        self.container = container
        self.terminal = terminal
        self.relayStdin = relayStdin
        self.killOnStop = killOnStop
    }

    /// Runs the loop until the container's first process has exited and its output is drained.
    public func wait() throws -> ExitStatus {
        var set = Self.supervisedSignals
        let sfd = berth_signalfd(&set)
        guard sfd >= 0 else { throw RuntimeError.system("cannot create a signalfd") }
        defer { close(sfd) }
        let registration = SupervisedContainers.register(pid: container.pid, pidfd: container.pidfd, killOnStop: killOnStop)
        defer { SupervisedContainers.unregister(registration) }

        var relay = terminal.map { PtyRelay(master: $0.master, stdinOpen: relayStdin) }
        terminal?.closeSlave()

        while true {
            if let status = reap() {
                relay?.drain()
                return status
            }
            var fds = [pollfd(fd: sfd, events: Int16(POLLIN), revents: 0)]
            if container.pidfd >= 0 { fds.append(pollfd(fd: container.pidfd, events: Int16(POLLIN), revents: 0)) }
            if let relay { fds += relay.pollEntries }
            let n = poll(&fds, nfds_t(fds.count), -1)
            if n < 0 {
                if errno == EINTR { continue }
                throw RuntimeError.system("poll")
            }
            if fds[0].revents != 0 { handleSignals(sfd, registration: registration) }
            relay?.handle(fds)
        }
    }

    /// The exit status if the container's first process has exited (reaping it), else nil.
    private func reap() -> ExitStatus? {
        var status: Int32 = 0
        let r = waitpid(container.pid, &status, WNOHANG)
        if r == container.pid { return ExitStatus(waitStatus: status) }
        return nil
    }

    private func handleSignals(_ sfd: Int32, registration: Int) {
        // struct signalfd_siginfo is 128 bytes; ssi_signo is its first field.
        var info = [UInt8](repeating: 0, count: 128)
        while info.withUnsafeMutableBytes({ read(sfd, $0.baseAddress, 128) }) == 128 {
            let signo = info.withUnsafeBytes { Int32(bitPattern: $0.load(as: UInt32.self)) }
            switch signo {
            case SIGCHLD: break   // the loop reaps
            case SIGWINCH: terminal?.copyWindowSize(from: STDIN_FILENO)
            default: SupervisedContainers.forward(signo, own: registration)
            }
        }
    }
}

/// Copies between berth's stdio and a pty master without blocking the loop.
private struct PtyRelay {
    let master: Int32
    var stdinOpen: Bool
    var masterOpen = true

    init(master: Int32, stdinOpen: Bool) {
        self.master = master
        self.stdinOpen = stdinOpen
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    }

    var pollEntries: [pollfd] {
        var entries: [pollfd] = []
        if masterOpen { entries.append(pollfd(fd: master, events: Int16(POLLIN), revents: 0)) }
        if stdinOpen { entries.append(pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)) }
        return entries
    }

    mutating func handle(_ fds: [pollfd]) {
        for entry in fds where entry.revents != 0 {
            if entry.fd == master && masterOpen {
                if copy(from: master, to: STDOUT_FILENO) == .closed { masterOpen = false }
            } else if entry.fd == STDIN_FILENO && stdinOpen {
                if copy(from: STDIN_FILENO, to: master) == .closed { stdinOpen = false }
            }
        }
    }

    /// Everything the container wrote before it exited. The kernel moves what a slave wrote to
    /// the master side asynchronously, so "nothing to read now" (EAGAIN) does not mean the end:
    /// read until the master reports EIO (no slave left open), waiting a bounded time for the
    /// last processes of the container to go and their output to come through.
    mutating func drain() {
        var waited: Int32 = 0
        while masterOpen {
            switch copy(from: master, to: STDOUT_FILENO) {
            case .copied: continue
            case .closed: masterOpen = false
            case .wouldBlock:
                guard waited < Self.drainLimitMilliseconds else { return }
                var entry = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
                if poll(&entry, 1, 50) == 0 { waited += 50 }
            }
        }
    }

    /// How long `drain` waits for output that never comes (a slave held open by a process that
    /// is still dying).
    static let drainLimitMilliseconds: Int32 = 2000

    private enum CopyResult { case copied, wouldBlock, closed }

    private func copy(from: Int32, to: Int32) -> CopyResult {
        var buffer = [UInt8](repeating: 0, count: 16384)
        let n = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
        if n < 0 { return errno == EAGAIN || errno == EINTR ? .wouldBlock : .closed }
        if n == 0 { return .closed }
        var offset = 0
        while offset < n {
            let w = buffer.withUnsafeBytes { write(to, $0.baseAddress.map { $0 + offset }, n - offset) }
            if w < 0 {
                if errno == EINTR { continue }
                break   // the reader went away; keep consuming so the container never blocks on it
            }
            offset += w
        }
        return .copied
    }
}
