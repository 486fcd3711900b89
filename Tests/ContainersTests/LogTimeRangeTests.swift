import Containers
import Testing

/// `logs --since/--until` bounds: durations, RFC 3339 and Unix times, and the entries they keep.
@Suite("Log time range") struct LogTimeRangeTests {
    /// 2026-12-06T15:00:00Z.
    static let now: Int64 = 1_796_569_200 * 1_000_000_000

    /// Each bound's offset from `now`, in nanoseconds.
    static let cases: [(String, Int64)] = [
        ("10m", -600_000_000_000),
        ("1h30m", -5_400_000_000_000),
        ("1.5h", -5_400_000_000_000),
        ("250ms", -250_000_000),
        ("2026-12-06T14:00:00Z", -3_600_000_000_000),
        ("2026-12-06T16:00:00.5+01:00", 500_000_000),
        ("1796569200", 0),
        ("1796569200.25", 250_000_000),
    ]

    @Test(arguments: cases)
    func bounds(text: String, offset: Int64) throws {
        #expect(try LogTimeRange(since: text, until: nil, now: Self.now).since == Self.now + offset)
    }

    @Test(arguments: ["", "10x", "m", "yesterday", "2026-12-06", "-5m"])
    func refusals(text: String) {
        #expect(throws: (any Error).self) { try LogTimeRange(since: text, until: nil, now: Self.now) }
    }

    @Test func entriesInRange() throws {
        let range = try LogTimeRange(since: "2026-12-06T14:00:00Z", until: "2026-12-06T14:30:00Z", now: Self.now)
        #expect(!range.contains("2026-12-06T13:59:59.999999999Z"))
        #expect(range.contains("2026-12-06T14:00:00.000000000Z"))
        #expect(range.contains("2026-12-06T14:29:59.123456789Z"))
        #expect(!range.contains("2026-12-06T14:30:00.000000001Z"))
        #expect(range.contains("not a time"), "an entry without a time is shown")
        #expect(range.isOver(now: Self.now))
        #expect(try LogTimeRange(since: nil, until: nil).contains("2026-12-06T14:00:00Z"))
    }
}
