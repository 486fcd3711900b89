import CommandLineParsing
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The CLI's output layer: the only place that writes to the user.
enum Output {
    /// One readable line on stderr: "berth: <what went wrong>".
    static func error(_ message: String) {
        writeLine(STDERR_FILENO, "berth: " + message)
    }

    static func writeLine(_ fd: Int32, _ text: String) {
        let bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + offset }, bytes.count - offset) }
            if n < 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }

    /// A command line berth cannot run as given: Docker's code for a CLI error.
    static func exitCode(for error: UsageError) -> Int32 { 125 }

    /// Docker's convention: 126 the command is not executable, 127 not found, 125 anything else.
    static func exitCode(for error: RuntimeError) -> Int32 {
        switch error.code {
        case .notExecutable: return 126
        case .commandNotFound: return 127
        default: return 125
        }
    }
}
