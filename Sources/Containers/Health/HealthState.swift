import FileSystem
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// What the health checks of a running container have found, Docker's `State.Health`: kept in
/// the container's directory (`health.json`), rewritten atomically by each check.
public struct HealthState: Sendable, Equatable {
    public enum Status: String, Sendable {
        case starting, healthy, unhealthy
    }

    /// One check's result.
    public struct Result: Sendable, Equatable {
        public var start: String
        public var end: String
        /// The command's exit code; -1 when it was killed for running past the timeout, or
        /// could not be run at all.
        public var exitCode: Int32
        public var output: String
    }

    public var status: Status = .starting
    public var failingStreak = 0
    /// The last results, oldest first, at most `keptResults`.
    public var log: [Result] = []

    /// Docker keeps five.
    public static let keptResults = 5
    /// The most of a check's output kept (Docker's 4 KiB).
    public static let maximumOutput = 4096

    public init() {}

    /// The state after `result`: a success makes the container healthy and clears the streak;
    /// a failure counts, except inside the start period (so a slow start is not unhealthy),
    /// and `retries` failures in a row make it unhealthy.
    public func recording(_ result: Result, retries: Int, inStartPeriod: Bool) -> HealthState {
        var next = self
        next.log.append(result)
        if next.log.count > Self.keptResults { next.log.removeFirst(next.log.count - Self.keptResults) }
        if result.exitCode == 0 {
            next.status = .healthy
            next.failingStreak = 0
        } else if !inStartPeriod {
            next.failingStreak += 1
            if next.failingStreak >= retries { next.status = .unhealthy }
        }
        return next
    }

    public var json: JSONValue {
        .object([
            ("Status", .string(status.rawValue)),
            ("FailingStreak", .number(JSONNumber(failingStreak))),
            ("Log", .array(log.map { result in
                .object([("Start", .string(result.start)), ("End", .string(result.end)),
                         ("ExitCode", .number(JSONNumber(result.exitCode))), ("Output", .string(result.output))])
            })),
        ])
    }

    public init?(json: JSONValue) {
        guard let status = json["Status"]?.string.flatMap(Status.init(rawValue:)) else { return nil }
        self.status = status
        failingStreak = json["FailingStreak"]?.int ?? 0
        log = (json["Log"]?.array ?? []).map { entry in
            Result(start: entry["Start"]?.string ?? "", end: entry["End"]?.string ?? "",
                   exitCode: Int32(entry["ExitCode"]?.int ?? -1), output: entry["Output"]?.string ?? "")
        }
    }
}

extension ContainerStore {
    public func healthPath(of id: String) -> String { directory(of: id) + "/health.json" }

    /// The container's health, nil when it has none recorded (no check, or never started).
    public func health(of id: String) -> HealthState? {
        guard let bytes = try? FileIO.readFile(healthPath(of: id)), let json = try? JSON.parse(bytes) else { return nil }
        return HealthState(json: json)
    }

    /// Replaces the container's health atomically; a container removed meanwhile is no error.
    public func writeHealth(_ health: HealthState, of id: String) {
        try? AtomicFile.replace(healthPath(of: id), with: JSON.serialize(health.json), mode: 0o600, durable: false)
    }

    /// Drops what earlier runs found: a start (or restart) begins as `starting`.
    public func resetHealth(of id: String) {
        unlink(healthPath(of: id))
    }
}
