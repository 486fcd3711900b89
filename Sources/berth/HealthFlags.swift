import CommandLineParsing
import Containers

/// run's and create's `--health-*` flags: the container's health check over the image's.
enum HealthFlags {
    static let options: [OptionSpec] = [
        .value("health-cmd", valueName: "command", help: "Command run inside the container to check its health (with /bin/sh -c)."),
        .value("health-interval", valueName: "duration", help: "Time between two checks, e.g. 10s, 500ms. (default 30s)"),
        .value("health-timeout", valueName: "duration", help: "A check running longer fails and is killed. (default 30s)"),
        .value("health-retries", valueName: "n", help: "Failures in a row that make the container unhealthy. (default 3)"),
        .value("health-start-period", valueName: "duration",
               help: "Time after the start in which failures do not count. (default 0s)"),
        .flag("no-healthcheck", help: "Run no health check, not even the image's HEALTHCHECK."),
    ]

    /// The flags as a check to lay over the image's; nil when none is given.
    static func parse(_ parsed: ParsedArguments) throws(UsageError) -> HealthCheck? {
        let command = parsed.string("health-cmd")
        if parsed.flag("no-healthcheck") {
            let timing = ["health-cmd", "health-interval", "health-timeout", "health-retries", "health-start-period"]
            if let given = timing.first(where: { parsed.string($0) != nil }) {
                throw UsageError("--no-healthcheck conflicts with --\(given): choose one")
            }
            return HealthCheck(test: ["NONE"])
        }
        var check = HealthCheck(test: command.map { ["CMD-SHELL", $0] } ?? [])
        check.interval = try duration(parsed, "health-interval")
        check.timeout = try duration(parsed, "health-timeout")
        check.startPeriod = try duration(parsed, "health-start-period")
        if let retries = parsed.string("health-retries") {
            guard let count = Int(retries), count >= 1, count <= 1_000_000 else {
                throw UsageError("--health-retries \(retries): give a number of failures, at least 1")
            }
            check.retries = count
        }
        if command?.isEmpty == true { throw UsageError("--health-cmd needs a command") }
        return check == HealthCheck(test: []) ? nil : check
    }

    /// A duration flag in nanoseconds, 0 when absent; Docker's smallest interval is 1ms.
    private static func duration(_ parsed: ParsedArguments, _ name: String) throws(UsageError) -> Int64 {
        guard let text = parsed.string(name) else { return 0 }
        guard let value = GoDuration.parse(text) else {
            throw UsageError("--\(name) \(text) is not a duration: use a number with a unit, e.g. 30s, 500ms, 1m30s")
        }
        if value != 0 && value < 1_000_000 { throw UsageError("--\(name) \(text) is too short: give at least 1ms") }
        return value
    }
}

/// `berth health-check` (hidden): runs a container's health check once and records the result
/// (run by its monitor on the check's interval; see `ContainerEngine.runHealthCheck`).
struct HealthCheckCommand: BerthCommand {
    static let spec = CommandSpec(
        name: "health-check", abstract: "Run a container's health check once (run by its monitor).",
        usage: "[--loop] CONTAINER",
        options: [.flag("loop", help: "Run it on its interval until the container ends (a foreground run's checks).")],
        hidden: true)

    let global: GlobalOptions
    let id: String
    let loop: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 1 else { throw UsageError("health-check takes one container id") }
        id = parsed.positionals[0]
        loop = parsed.flag("loop")
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        if loop { try engine.runHealthChecks(id: id) } else { try engine.runHealthCheck(id: id) }
        return 0
    }
}
