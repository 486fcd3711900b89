import CommandLineParsing
import Runtime
import FileSystem
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
        write(fd, text + "\n")
    }

    /// `text` as it is, whole and without a line end (a display that redraws in place, with its
    /// escape sequences).
    static func write(_ fd: Int32, _ text: String) {
        // Nowhere to report a failed write to the user's terminal or pipe: it is dropped.
        try? FileIO.writeAll(fd, Array(text.utf8), path: "fd \(fd)")
    }

    /// Any failure, as one line: berth's errors and usage errors say themselves in one sentence.
    static func error(_ failure: any Error) {
        switch failure {
        case let usage as UsageError: error(usage.message)
        default: error(String(describing: failure))
        }
    }

    /// berth's exit code for a failure: Docker's 125 for a command line berth cannot run; for a
    /// failed `run`, 126 when its command cannot be executed and 127 when it is not found;
    /// otherwise the command's `failureCode` (125 for run, 1 for the others).
    static func exitCode(for failure: any Error, failureCode: Int32) -> Int32 {
        switch failure {
        case let usage as UsageError: return exitCode(for: usage)
        case let error as BerthError where exitCode(for: error) != 125: return exitCode(for: error)
        default: return failureCode
        }
    }

    /// A command line berth cannot run as given: Docker's code for a CLI error.
    static func exitCode(for error: UsageError) -> Int32 { 125 }

    /// Docker's convention for `run`: 126 the command is not executable, 127 not found, 125
    /// anything else.
    static func exitCode(for error: BerthError) -> Int32 { error.runExitCode }
}
