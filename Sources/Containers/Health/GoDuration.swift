/// Durations as Docker's flags take them (Go's `time.ParseDuration`): a sequence of decimal
/// numbers with a unit each, `200ms`, `1m30s`, `1.5s`, `2h`; units ns, us (µs), ms, s, m, h.
public enum GoDuration {
    /// The duration in nanoseconds, or nil for text that is not one (a bare number other than
    /// 0, a sign, an unknown unit, or more than Int64 holds).
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        if bytes == [UInt8(ascii: "0")] { return 0 }
        guard !bytes.isEmpty else { return nil }
        var total: Double = 0
        var i = 0
        while i < bytes.count {
            let numberStart = i
            while i < bytes.count, isDigit(bytes[i]) || bytes[i] == UInt8(ascii: ".") { i += 1 }
            guard i > numberStart, let number = Double(String(decoding: bytes[numberStart..<i], as: UTF8.self)) else { return nil }
            let unitStart = i
            while i < bytes.count, !isDigit(bytes[i]), bytes[i] != UInt8(ascii: ".") { i += 1 }
            guard let scale = nanoseconds(per: String(decoding: bytes[unitStart..<i], as: UTF8.self)) else { return nil }
            total += number * scale
        }
        guard total < 9.2e18 else { return nil }
        return Int64(total.rounded())
    }

    /// A duration as Docker prints a short one: `200ms`, `1.5s`, `30s`, `2m0s`.
    public static func describe(_ nanoseconds: Int64) -> String {
        if nanoseconds < 1_000_000 { return "\(nanoseconds)ns" }
        if nanoseconds < 1_000_000_000 { return trimmed(Double(nanoseconds) / 1e6) + "ms" }
        let seconds = Double(nanoseconds) / 1e9
        if seconds < 60 { return trimmed(seconds) + "s" }
        let minutes = Int64(seconds / 60)
        let rest = seconds - Double(minutes * 60)
        if minutes < 60 { return "\(minutes)m" + trimmed(rest) + "s" }
        return "\(minutes / 60)h\(minutes % 60)m" + trimmed(rest) + "s"
    }

    private static func trimmed(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        if rounded == rounded.rounded() { return String(Int64(rounded)) }
        return String(rounded)
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    private static func nanoseconds(per unit: String) -> Double? {
        switch unit {
        case "ns": return 1
        case "us", "µs", "μs": return 1e3
        case "ms": return 1e6
        case "s": return 1e9
        case "m": return 60e9
        case "h": return 3600e9
        default: return nil
        }
    }
}
