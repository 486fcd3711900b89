/// Sizes as Docker's flags take them: "67108864", "64m", "512k", "1.5g", with b/k/m/g suffixes
/// (binary multiples) and an optional trailing "b" ("64mb").
public enum ByteSize {
    public static func parse(_ text: String) throws -> Int64 {
        var s = Substring(text.lowercased())
        func fail() -> RuntimeError {
            RuntimeError(.invalidArgument, "invalid size \"\(text)\": use a number of bytes or a number with k, m or g (e.g. 64m)")
        }
        if s.count > 1, s.hasSuffix("b"), let c = s.dropLast().last, "kmg".contains(c) { s = s.dropLast() }
        var multiplier: Double = 1
        switch s.last {
        case "k": multiplier = 1024
        case "m": multiplier = 1024 * 1024
        case "g": multiplier = 1024 * 1024 * 1024
        case "b": multiplier = 1
        default: break
        }
        if multiplier != 1 || s.last == "b" { s = s.dropLast() }
        guard !s.isEmpty, s.allSatisfy({ $0.isNumber || $0 == "." }), let value = Double(s), value > 0 else {
            throw fail()
        }
        let bytes = (value * multiplier).rounded()
        guard bytes >= 1, bytes < Double(Int64.max) else { throw fail() }
        return Int64(bytes)
    }

    /// "64 MiB", for messages.
    public static func describe(_ bytes: Int64) -> String {
        let units: [(Int64, String)] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size {
            if bytes % size == 0 { return "\(bytes / size) \(name)" }
            // Tenths without multiplying bytes (which could overflow near Int64.max).
            let whole = bytes / size, tenths = ((bytes % size) * 10 + size / 2) / size
            return tenths == 10 ? "\(whole + 1) \(name)" : "\(whole).\(tenths) \(name)"
        }
        return "\(bytes) bytes"
    }
}
