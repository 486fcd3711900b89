#if canImport(Glibc)
import Glibc
#endif

/// The figures of `berth stats` as Docker prints them (its go-units rules): memory in binary
/// units with four significant digits (`1.5MiB / 64MiB`), network and block I/O in decimal units
/// with three (`1.2kB / 648B`), shares with two decimals (`12.34%`).
enum StatsFormat {
    static func binarySize(_ bytes: UInt64) -> String {
        scaled(Double(bytes), base: 1024, units: ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"], digits: 4)
    }

    static func decimalSize(_ bytes: UInt64) -> String {
        scaled(Double(bytes), base: 1000, units: ["B", "kB", "MB", "GB", "TB", "PB", "EB"], digits: 3)
    }

    static func percent(_ value: Double) -> String {
        let hundredths = Int64((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)%"
    }

    /// "A / B" of two sizes.
    static func pair(_ first: String, _ second: String) -> String { first + " / " + second }

    private static func scaled(_ value: Double, base: Double, units: [String], digits: Int32) -> String {
        var size = value
        var unit = 0
        while size >= base && unit < units.count - 1 {
            size /= base
            unit += 1
        }
        return significant(size, digits: digits) + units[unit]
    }

    /// C's `%.Ng`: N significant digits, trailing zeros dropped.
    static func significant(_ value: Double, digits: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([digits, value]) { vsnprintf(&buffer, buffer.count, "%.*g", $0) }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
