import BerthErrors
import CommandLineParsing
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `--log`, `--log-format` and `--debug`: where berth-oci's log lines go and in which form.
enum OCILogging {
    /// The --log file's fd, or -1 when the log is stderr.
    nonisolated(unsafe) private static var logFD: Int32 = -1

    static func setUp(_ global: ParsedArguments) throws -> Logger {
        let format = global.string("log-format") ?? "text"
        guard format == "text" || format == "json" else {
            throw UsageError("--log-format must be text or json, not \"\(format)\"")
        }
        var opened = STDERR_FILENO
        if let path = global.string("log"), !path.isEmpty {
            opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard opened >= 0 else { throw BerthError.system("cannot open the log file \(path) given with --log") }
            logFD = opened
        }
        let fd = opened
        let level: Logger.Level = global.flag("debug") ? .debug : .warning
        let json = format == "json"
        LoggingSystem.bootstrap { _ in OCILogHandler(fd: fd, json: json, logLevel: level) }
        return Logger(label: "berth-oci")
    }

    /// A failure is said on stderr too when the log goes to a file: a person at a terminal
    /// sees it, and so does a caller that reads stderr only.
    static func echo(_ message: String) {
        guard logFD >= 0 else { return }
        OCIOutput.writeLine(STDERR_FILENO, "berth-oci: " + message)
    }
}
