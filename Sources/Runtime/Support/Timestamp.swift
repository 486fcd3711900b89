#if canImport(Glibc)
import Glibc
#endif

/// Times as berth records them (RFC 3339 in UTC with nanoseconds, Docker's form) and as `ps`
/// says them ("3 seconds", "2 minutes"), without Foundation.
public enum Timestamp {
    /// Now, as RFC 3339: `2026-11-25T17:09:57.123456789Z`.
    public static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return format(seconds: Int(ts.tv_sec), nanoseconds: Int(ts.tv_nsec))
    }

    public static func format(seconds: Int, nanoseconds: Int = 0) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        var text = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
        if nanoseconds > 0 { text += "." + pad(Int32(nanoseconds), 9) }
        return text + "Z"
    }

    /// The whole seconds since the epoch of an RFC 3339 time (any offset, any fraction), nil
    /// when `text` is not one.
    public static func parse(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= bytes.count else { return nil }
            var value = 0
            for b in bytes[from..<(from + count)] {
                guard b >= 48, b <= 57 else { return nil }
                value = value * 10 + Int(b - 48)
            }
            return value
        }
        guard bytes.count >= 20, let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2) else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        var seconds = Int(timegm(&parts))
        var i = 19
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 { i += 1 }
        }
        guard i < bytes.count else { return nil }
        if bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            guard let h = number(i + 1, 2), let m = number(i + 4, 2) else { return nil }
            let offset = h * 3600 + m * 60
            seconds += bytes[i] == UInt8(ascii: "+") ? -offset : offset
        } else if bytes[i] != UInt8(ascii: "Z") && bytes[i] != UInt8(ascii: "z") {
            return nil
        }
        return seconds
    }

    /// A duration as Docker's `ps` and `images` say it: "Less than a second", "3 seconds",
    /// "About a minute", "2 hours", "5 days", "3 weeks", "2 months", "4 years".
    public static func humanDuration(_ seconds: Int) -> String {
        let s = max(0, seconds)
        if s < 1 { return "Less than a second" }
        if s == 1 { return "1 second" }
        if s < 60 { return "\(s) seconds" }
        let minutes = s / 60
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = (s + 1800) / 3600
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        let days = s / 86400
        if days < 14 { return "\(days) days" }
        if days < 60 { return "\(days / 7) weeks" }
        if days < 730 { return "\(days / 30) months" }
        return "\(days / 365) years"
    }

    /// "3 seconds ago" for a recorded time; "" when it is not one.
    public static func ago(_ text: String?, now: Int = Int(time(nil))) -> String {
        guard let text, let then = parse(text) else { return "" }
        return humanDuration(now - then) + " ago"
    }
}
