import CSpawn
#if canImport(Glibc)
import Glibc
#endif

/// A pty pair for a container started with `-t`: berth keeps the master, the container's
/// stdio and controlling terminal is the slave.
public final class PseudoTerminal: Sendable {
    public let master: Int32
    public let slave: Int32
    /// The slave's host path (/dev/pts/N), bound onto the container's /dev/console.
    public let slavePath: String

    /// Opens the pair with the window size of `sizeFrom` (berth's own terminal) already set, so
    /// the container sees the right size from its first instruction; setting it later would
    /// also send the container a spurious SIGWINCH.
    public init(sizeFrom: Int32 = STDIN_FILENO) throws {
        var m: Int32 = -1, s: Int32 = -1
        var name = [CChar](repeating: 0, count: 64)
        guard berth_open_pty(&m, &s, &name, name.count) == 0 else {
            throw RuntimeError.system("cannot allocate a pseudo-terminal")
        }
        master = m
        slave = s
        slavePath = String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        copyWindowSize(from: sizeFrom)
    }

    /// A pair from a running container's own devpts (`berth exec -t`), so that inside the
    /// container `tty` names it: `root` is the container's root as the host sees it
    /// (/proc/<pid>/root); its /dev/pts/ptmx is opened without following symlinks out of it.
    public init(inContainerRoot root: String, sizeFrom: Int32 = STDIN_FILENO) throws {
        let ptmx = berth_open_in_root(root, "/dev/pts/ptmx", O_RDWR | O_NOCTTY)
        guard ptmx >= 0 else { throw RuntimeError.system("cannot open the container's /dev/pts/ptmx") }
        var m: Int32 = -1, s: Int32 = -1
        var name = [CChar](repeating: 0, count: 64)
        guard berth_open_pty_in(ptmx, &m, &s, &name, name.count) == 0 else {
            let err = errno
            close(ptmx)
            throw RuntimeError.system("cannot allocate a pseudo-terminal in the container", errno: err)
        }
        master = m
        slave = s
        slavePath = String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        copyWindowSize(from: sizeFrom)
    }

    /// Once the container has its copy, berth must drop the slave: otherwise the master never
    /// sees EOF/EIO when the container's last process goes away.
    public func closeSlave() { close(slave) }

    public func closeMaster() { close(master) }

    /// Copies the window size of `terminal` (berth's own stdin) to the pty; the kernel then sends
    /// SIGWINCH to the container's foreground process group.
    public func copyWindowSize(from terminal: Int32) {
        var size = winsize()
        guard ioctl(terminal, UInt(TIOCGWINSZ), &size) == 0 else { return }
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
    }
}

/// The user's terminal in raw mode for as long as a `-t` container runs: keys go to the
/// container unprocessed (^C is a byte the container's pty turns into SIGINT there).
/// `restore()` must run on every exit path; the CLI calls it before printing anything.
public final class RawTerminalMode: @unchecked Sendable {
    private let fd: Int32
    private var saved = termios()
    private var active = false

    /// Returns nil when `fd` is not a terminal (nothing to do).
    public init?(fd: Int32) {
        self.fd = fd
        guard isatty(fd) == 1, tcgetattr(fd, &saved) == 0 else { return nil }
        var raw = saved
        cfmakeraw(&raw)
        guard tcsetattr(fd, TCSANOW, &raw) == 0 else { return nil }
        active = true
    }

    public func restore() {
        guard active else { return }
        active = false
        _ = tcsetattr(fd, TCSANOW, &saved)
    }

    deinit { restore() }
}
