import ImageStore
import JSON

/// A container's health check, Docker's `Healthcheck` (the image's HEALTHCHECK, or run's
/// `--health-*` flags over it): what to run inside the container and how often.
///
/// Durations are nanoseconds, as in the image config; zero means "Docker's default" (interval
/// and timeout 30 s, start period none, three retries).
public struct HealthCheck: Sendable, Equatable {
    /// `["CMD", program, arg...]`, `["CMD-SHELL", "a shell command"]`, or `["NONE"]` (no check:
    /// `--no-healthcheck`, or an image's HEALTHCHECK NONE).
    public var test: [String]
    public var interval: Int64
    public var timeout: Int64
    public var startPeriod: Int64
    public var retries: Int

    public static let defaultInterval: Int64 = 30_000_000_000
    public static let defaultTimeout: Int64 = 30_000_000_000
    public static let defaultRetries = 3

    public init(test: [String], interval: Int64 = 0, timeout: Int64 = 0, startPeriod: Int64 = 0, retries: Int = 0) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.retries = retries
    }

    /// The argv run in the container, or nil when there is no check to run.
    public var command: [String]? {
        switch test.first {
        case "CMD" where test.count > 1: return Array(test.dropFirst())
        case "CMD-SHELL" where test.count > 1: return ["/bin/sh", "-c", test.dropFirst().joined(separator: " ")]
        default: return nil
        }
    }

    public var effectiveInterval: Int64 { interval > 0 ? interval : Self.defaultInterval }
    public var effectiveTimeout: Int64 { timeout > 0 ? timeout : Self.defaultTimeout }
    public var effectiveRetries: Int { retries > 0 ? retries : Self.defaultRetries }

    /// `self` (the image's) with every field `flags` sets over it, Docker's merge: a test, an
    /// interval... given on the command line replaces the image's, the rest is kept.
    public func overridden(by flags: HealthCheck) -> HealthCheck {
        var merged = self
        if !flags.test.isEmpty { merged.test = flags.test }
        if flags.interval > 0 { merged.interval = flags.interval }
        if flags.timeout > 0 { merged.timeout = flags.timeout }
        if flags.startPeriod > 0 { merged.startPeriod = flags.startPeriod }
        if flags.retries > 0 { merged.retries = flags.retries }
        return merged
    }

    /// Docker's shape: `{"Test": [...], "Interval": ns, ...}`, zero fields left out.
    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("Test", .array(test.map(JSONValue.string)))]
        for (key, value) in [("Interval", interval), ("Timeout", timeout), ("StartPeriod", startPeriod)] where value > 0 {
            members.append((key, .number(JSONNumber(value))))
        }
        if retries > 0 { members.append(("Retries", .number(JSONNumber(retries)))) }
        return .object(members)
    }

    /// Reads Docker's shape; nil when `json` is not an object or has no Test.
    public init?(json: JSONValue?) {
        guard let json, json.object != nil, let test = json["Test"]?.array?.compactMap(\.string) else { return nil }
        self.init(test: test, interval: json["Interval"]?.int64 ?? 0, timeout: json["Timeout"]?.int64 ?? 0,
                  startPeriod: json["StartPeriod"]?.int64 ?? 0, retries: json["Retries"]?.int ?? 0)
    }
}

extension HealthCheck {
    /// The image's check as berth's model.
    public init(image: OCIImage.Healthcheck) {
        self.init(test: image.test ?? [], interval: image.interval ?? 0, timeout: image.timeout ?? 0,
                  startPeriod: image.startPeriod ?? 0, retries: image.retries ?? 0)
    }

    /// A container's check: the image's, with the flags' fields over it; nil when neither has one.
    public static func resolved(image: OCIImage.Healthcheck?, flags: HealthCheck?) -> HealthCheck? {
        let base = image.map(HealthCheck.init(image:))
        guard let flags else { return base }
        return (base ?? HealthCheck(test: [])).overridden(by: flags)
    }
}
