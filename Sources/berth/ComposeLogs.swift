import CommandLineParsing
import Compose
import Containers
#if canImport(Glibc)
import Glibc
import Runtime
#endif

/// `berth compose logs [-f] [SERVICE...]`: each instance's output, every line after its
/// container's name. With -f, one thread follows each instance's log until it stops.
struct ComposeLogs: ComposeCommand {
    static let spec = CommandSpec(
        name: "logs", abstract: "Show the output of the project's containers.", usage: "[OPTIONS] [SERVICE...]",
        options: [
            .flag("follow", short: "f", help: "Keep printing new output until the containers stop."),
            .flag("no-prefix", help: "Leave out the container's name before each line."),
        ])

    let global: GlobalOptions
    let compose: ComposeOptions
    let follow: Bool
    let prefixed: Bool
    let services: [String]

    init(global: GlobalOptions, compose: ComposeOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        self.compose = compose
        follow = parsed.flag("follow")
        prefixed = !parsed.flag("no-prefix")
        services = parsed.positionals
    }

    func run() throws -> Int32 {
        let compose = try composeEngine(global, compose)
        _ = try compose.selected(services)
        // The proxied services' containers too: their deployer labels them, not Compose.
        let instances = compose.instances(of: services) + compose.proxiedContainers(of: services)
        let logs = InstanceLogs(instances, engine: compose.engine, prefixed: prefixed)
        if follow { logs.follow() } else { try logs.print() }
        return 0
    }
}

/// The logs of some of a project's instances, printed or followed together.
struct InstanceLogs: Sendable {
    let instances: [ComposeEngine.Instance]
    let engine: ContainerEngine
    private let printers: [LogPrinter]

    init(_ instances: [ComposeEngine.Instance], engine: ContainerEngine, prefixed: Bool) {
        self.instances = instances
        self.engine = engine
        let width = instances.map(\.record.name.count).max() ?? 0
        printers = instances.map { instance in
            LogPrinter(log: ContainerLog(path: engine.store.logPath(of: instance.record.id)),
                       prefix: prefixed ? instance.record.name.padding(to: width) + " | " : "")
        }
    }

    /// Everything logged so far, one instance after the other.
    func print() throws {
        for printer in printers { try printer.log.read { printer.print($0) } }
    }

    /// Follows every instance's log, one thread each, until each container stops or `stop`
    /// says so; `ended` is called by each follower as it ends.
    func follow(stop: @escaping @Sendable () -> Bool = { false }, ended: @escaping @Sendable () -> Void = {}) {
        let engine = engine
        let followers = zip(instances, printers).map { instance, printer in
            WorkerThread.startOrRun {
                try? engine.followLog(of: instance.record, from: .beginning, stop: stop, emit: { printer.print($0) })
                ended()
            }
        }
        for follower in followers { follower?.join() }
    }
}

/// One container's log lines on their way out, with the container's name before each.
private struct LogPrinter: Sendable {
    let log: ContainerLog
    let prefix: String

    /// One write per line, so lines of several containers written at once never mix.
    func print(_ entry: ContainerLog.Entry) {
        let bytes = Array(prefix.utf8) + entry.log
        let fd = entry.stream == .stderr ? STDERR_FILENO : STDOUT_FILENO
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + offset }, bytes.count - offset) }
            if n < 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }
}

private extension String {
    func padding(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
