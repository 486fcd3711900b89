#if canImport(Glibc)
import Glibc
#endif

/// `logs --since/--until`: the entries written in a span of time. Each bound is an RFC 3339
/// time (`2026-12-06T15:00:00Z`, any offset, any fraction), a Unix time (`1796569200`,
/// `1796569200.5`), or a duration back from now as Go writes them (`10m`, `1h30m`, `1.5h`,
/// `250ms`). Both bounds are inclusive, as in Docker.
public struct LogTimeRange: Sendable, Equatable {
    /// Nanoseconds since the epoch; nil for no bound.
    public let since: Int64?
    public let until: Int64?

    public init(since: String?, until: String?, now: Int64 = LogTimeRange.now()) throws(ContainerError) {
        self.since = try since.map { text throws(ContainerError) in try Self.bound(text, flag: "--since", now: now) }
        self.until = try until.map { text throws(ContainerError) in try Self.bound(text, flag: "--until", now: now) }
    }

    public var isEmpty: Bool { since == nil && until == nil }

    /// Whether an entry written at `time` (the log's RFC 3339 text) is in the range; an entry
    /// without a readable time is shown.
    public func contains(_ time: String) -> Bool {
        guard !isEmpty, let written = Self.nanoseconds(rfc3339: time) else { return true }
        if let since, written < since { return false }
        if let until, written > until { return false }
        return true
    }

    /// Whether the range ended before `now`: a follow can stop.
    public func isOver(now: Int64 = LogTimeRange.now()) -> Bool { until.map { $0 < now } ?? false }

    public static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    static func bound(_ text: String, flag: String, now: Int64) throws(ContainerError) -> Int64 {
        if let time = nanoseconds(rfc3339: text) { return time }
        if let unix = unixTime(text) { return unix }
        if let duration = duration(text) { return now - duration }
        throw ContainerError(.invalidArgument, "\(flag) \"\(text)\": give a duration (10m, 1h30m), an RFC 3339 time "
                             + "(2026-12-06T15:00:00Z) or a Unix time")
    }

    /// An RFC 3339 time with its fraction, in nanoseconds since the epoch.
    static func nanoseconds(rfc3339 text: String) -> Int64? {
        guard let seconds = Timestamp.parse(text) else { return nil }
        var fraction: Int64 = 0
        if let dot = text.firstIndex(of: "."), text.distance(from: text.startIndex, to: dot) == 19 {
            var digits = 0
            for character in text[text.index(after: dot)...] {
                guard let digit = character.wholeNumberValue, character.isASCII else { break }
                if digits < 9 { fraction = fraction * 10 + Int64(digit) }
                digits += 1
            }
            for _ in min(digits, 9)..<9 { fraction *= 10 }
        }
        return Int64(seconds) * 1_000_000_000 + fraction
    }

    /// `1796569200` or `1796569200.5`.
    static func unixTime(_ text: String) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCII), let seconds = Int64(whole) else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1].prefix(9)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(digits) else { return nil }
            fraction = value
            for _ in digits.count..<9 { fraction *= 10 }
        }
        return seconds * 1_000_000_000 + fraction
    }

    /// Go's time.ParseDuration without a sign: numbers (a fraction allowed) each with a unit of
    /// ns, us, µs, ms, s, m or h.
    static func duration(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            // The longest unit that matches: "ms" before "m".
            guard let unit = units.filter({ rest.hasPrefix($0.0) }).max(by: { $0.0.count < $1.0.count }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        guard total < 9e18 else { return nil }
        return Int64(total)
    }
}
