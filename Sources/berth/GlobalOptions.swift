import CommandLineParsing
import Containers
import Logging
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Options every command takes, given before it (`berth --root DIR run …`), as with docker.
struct GlobalOptions {
    static let options: [OptionSpec] = [
        .value("root", valueName: "dir", help: "berth's state directory (also BERTH_ROOT)."),
        .value("log-level", valueName: "level",
               help: "Log level: trace, debug, info, notice, warning, error. (default: warning)"),
        .flag("debug", help: "Log what berth does and print each container's setup plan."),
        .flag("version", short: "v", help: "Print berth's version in one line and exit."),
    ]

    let root: String?
    let logLevel: String
    let debug: Bool
    /// `berth --version`: the one line of `VersionCommand.oneLine`, no command.
    let version: Bool

    init(_ parsed: ParsedArguments) throws(UsageError) {
        root = parsed.string("root")
        logLevel = parsed.string("log-level") ?? "warning"
        debug = parsed.flag("debug")
        version = parsed.flag("version")
        // An empty root would be the current directory, silently (issue 11): say so instead.
        if root?.isEmpty == true { throw UsageError("--root is empty: give berth's state directory, or leave --root out") }
        if root == nil, let env = getenv("BERTH_ROOT"), env.pointee == 0 {
            throw UsageError("BERTH_ROOT is set but empty: give berth's state directory, or unset it")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw UsageError("unknown log level \"\(logLevel)\": use trace, debug, info, notice, warning or error")
        }
    }

    /// The state root: --root, else $BERTH_ROOT, else /var/lib/berth.
    var stateRoot: String {
        if let root { return absolutePath(root) }
        if let env = getenv("BERTH_ROOT") { return absolutePath(String(cString: env)) }
        return "/var/lib/berth"
    }

    /// Runtime state of running containers: /run/berth for the default root, else inside the
    /// chosen root (so separate roots, like the tests', never see each other's containers).
    var runRoot: String {
        root == nil && getenv("BERTH_ROOT") == nil ? "/run/berth" : stateRoot + "/run"
    }

    /// The options a berth that this one starts (a container's monitor) must be given to see
    /// the same state: --root when it was given (BERTH_ROOT is inherited anyway).
    var forwardedArguments: [String] {
        root == nil ? [] : ["--root", stateRoot]
    }

    /// The container engine on this state root.
    func engine() throws -> ContainerEngine {
        var engine = try ContainerEngine(stateRoot: stateRoot, runRoot: runRoot, forwardedArguments: forwardedArguments,
                                         logger: makeLogger())
        // Tests point --userns=auto at files of their own instead of /etc/subuid and /etc/subgid.
        if let uids = getenv("BERTH_SUBUID_FILE"), let gids = getenv("BERTH_SUBGID_FILE") {
            engine.subordinateIDFiles = SubordinateIDFiles(uidFile: String(cString: uids), gidFile: String(cString: gids))
        }
        return engine
    }

    /// berth's logger, on stderr at the chosen level. The logging system is set up on the
    /// first call (swift-log allows that once per process); later calls share it.
    func makeLogger() -> Logger {
        if !GlobalOptions.loggingReady {
            GlobalOptions.loggingReady = true
            let level = debug ? .debug : (Logger.Level(rawValue: logLevel) ?? .warning)
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        return Logger(label: "berth")
    }

    /// berth is single-threaded where it logs: a plain flag is enough.
    nonisolated(unsafe) private static var loggingReady = false
}
