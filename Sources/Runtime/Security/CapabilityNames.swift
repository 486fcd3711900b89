import CLibcap
#if canImport(Glibc)
import Glibc
#endif

/// Capability names and numbers, from libcap (so new capabilities arrive with the library, not
/// with an edit here) and from the running kernel (which decides what `ALL` means).
enum CapabilityNames {
    /// The highest capability number the running kernel knows, read once per process.
    /// /proc/sys/kernel/cap_last_cap is the kernel's own answer; libcap's cap_max_bits() probes
    /// the same thing and covers a /proc that is not mounted (early boot, odd sandboxes).
    static let kernelLastCap: Int = {
        if let text = try? readSmallFile("/proc/sys/kernel/cap_last_cap"),
           let value = Int(text.filter { !$0.isWhitespace }), (0..<64).contains(value) {
            return value
        }
        return min(max(Int(cap_max_bits()) - 1, 0), 63)
    }()

    /// Bits 0 … kernelLastCap.
    static var kernelMask: UInt64 {
        kernelLastCap == 63 ? UInt64.max : (UInt64(1) << UInt64(kernelLastCap + 1)) - 1
    }

    /// "CAP_CHOWN", … for bits 0 … 63; numbers libcap does not know read "CAP_<n>".
    static let table: [String] = (0..<64).map { number in
        guard let text = cap_to_name(cap_value_t(number)) else { return "CAP_\(number)" }
        defer { _ = cap_free(text) }
        let name = String(cString: text).uppercased()
        // cap_to_name answers with the bare number for capabilities it has no name for.
        return name.hasPrefix("CAP_") ? name : "CAP_\(number)"
    }

    /// One name as a user or a config.json writes it: any case, with or without `CAP_`, or `ALL`.
    static func parse(_ name: String) throws -> CapabilitySet {
        if name.uppercased() == "ALL" { return .all }
        var spelled = name.lowercased()
        if !spelled.hasPrefix("cap_") { spelled = "cap_" + spelled }
        // libcap also accepts bare numbers ("cap_12" is not one, but "12" would have been):
        // only letters and underscores make a capability name.
        let body = spelled.dropFirst(4)
        var number: cap_value_t = 0
        guard let first = body.first, first.isLetter,
              body.allSatisfy({ $0.isLetter || $0 == "_" }),
              cap_from_name(spelled, &number) == 0, (0..<64).contains(number) else {
            throw RuntimeError(.invalidArgument, "unknown capability \"\(name)\"")
        }
        guard Int(number) <= kernelLastCap else {
            throw RuntimeError(.unsupported,
                               "capability \(table[Int(number)]) is not supported by the running kernel")
        }
        return CapabilitySet(bits: 1 << UInt64(number))
    }
}
