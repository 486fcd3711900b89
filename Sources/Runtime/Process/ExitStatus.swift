#if canImport(Glibc)
import Glibc
#endif

/// How a container's process ended.
public enum ExitStatus: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)

    /// The shell convention berth exits with: the code, or 128 + the signal.
    public var code: Int32 {
        switch self {
        case let .exited(code): return code
        case let .signaled(signal): return 128 + signal
        }
    }

    public init(waitStatus status: Int32) {
        // WIFEXITED/WIFSIGNALED are macros that Swift does not import.
        let signal = status & 0x7f
        if signal == 0 {
            self = .exited((status >> 8) & 0xff)
        } else {
            self = .signaled(signal)
        }
    }

    init(siginfo info: siginfo_t) {
        // si_code CLD_EXITED (1) carries the exit code in si_status; the others carry a signal.
        let status = info._sifields._sigchld.si_status
        self = info.si_code == 1 ? .exited(status) : .signaled(status)
    }
}
