import BerthErrors
import CSpawn
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// process.terminal under an OCI caller: the container's stdio is the slave of a new pty, and
/// the master goes to the caller over its `--console-socket` (SCM_RIGHTS), as runc sends it to
/// containerd's shim and to conmon. berth-oci keeps neither end once it has been sent.
enum OCIConsole {
    /// Checks that `terminal` and the socket go together, before anything is created.
    static func check(terminal: Bool, socket: String?) throws {
        if terminal && socket == nil {
            throw RuntimeError(.invalidArgument, "process.terminal is true but no --console-socket was given: "
                               + "give the socket the terminal's master is sent on, or set process.terminal to false")
        }
        if !terminal, let socket {
            throw RuntimeError(.invalidArgument, "--console-socket \(socket) was given but process.terminal is false: "
                               + "set it to true or leave the socket out")
        }
    }

    /// A pty for a new container (`root` nil: the host's devpts, its slave bound onto the
    /// container's /dev/console) or for an exec (`root`: /proc/PID/root of the container, its
    /// own devpts), sized as the spec's consoleSize says.
    static func open(inContainerRoot root: String? = nil, size: OCIRuntimeSpec.ConsoleSize?) throws -> PseudoTerminal {
        let terminal = try root.map { try PseudoTerminal(inContainerRoot: $0, sizeFrom: -1) } ?? PseudoTerminal(sizeFrom: -1)
        if let size {
            var window = winsize(ws_row: UInt16(clamping: size.height), ws_col: UInt16(clamping: size.width),
                                 ws_xpixel: 0, ws_ypixel: 0)
            _ = ioctl(terminal.master, UInt(TIOCSWINSZ), &window)
        }
        return terminal
    }

    /// The slave as stdio and controlling terminal (and, for a new container, /dev/console).
    static func io(of terminal: PseudoTerminal) -> LaunchIO {
        LaunchIO(stdin: terminal.slave, stdout: terminal.slave, stderr: terminal.slave, terminalPath: terminal.slavePath)
    }

    /// Sends the master over `socket`.
    static func send(_ terminal: PseudoTerminal, to socket: String) throws {
        guard berth_send_console(socket, terminal.master, terminal.slavePath) == 0 else {
            throw RuntimeError.system("cannot send the terminal to the console socket \(socket)")
        }
    }
}
