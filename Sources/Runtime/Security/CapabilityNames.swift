import CLibcap
#if canImport(Glibc)
import Glibc
#endif

/// Capability names and numbers, from libcap (so new capabilities arrive with the library, not
/// with an edit here) and from the running kernel (which decides what `ALL` means).
enum CapabilityNames {
    /// The highest capability number the running kernel knows. libcap's constructor has already
    /// asked the kernel (PR_CAPBSET_READ answers EINVAL past the last one) before main runs, so
    /// this costs nothing, where /proc/sys/kernel/cap_last_cap would be a file read per process.
    static let kernelLastCap: Int = min(max(Int(cap_max_bits()) - 1, 0), 63)

    /// Bits 0 … kernelLastCap.
    static var kernelMask: UInt64 {
        kernelLastCap == 63 ? UInt64.max : (UInt64(1) << UInt64(kernelLastCap + 1)) - 1
    }

    /// "CAP_CHOWN", … for bits 0 … 63; numbers libcap does not know read "CAP_<n>". libcap's
    /// names are ASCII, upper-cased on the bytes (every run writes its set's names).
    static let table: [String] = (0..<64).map { number in
        guard let text = cap_to_name(cap_value_t(number)) else { return "CAP_\(number)" }
        defer { _ = cap_free(text) }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self), count: strlen(text))
        let name = String(decoding: bytes.map { (97...122).contains($0) ? $0 & ~0x20 : $0 }, as: UTF8.self)
        // cap_to_name answers with the bare number for capabilities it has no name for.
        return name.hasPrefix("CAP_") ? name : "CAP_\(number)"
    }

    /// One name as a user or a config.json writes it: any case, with or without `CAP_`, or `ALL`.
    /// Capability names are ASCII letters and underscores, so case is folded on the bytes (a
    /// launch spec names some forty of them, and Unicode's case tables cost more than the rest).
    static func parse(_ name: String) throws -> CapabilitySet {
        var spelled = name.utf8.map { (65...90).contains($0) ? $0 | 0x20 : $0 }
        if spelled.elementsEqual("all".utf8) { return .all }
        if !spelled.starts(with: "cap_".utf8) { spelled.insert(contentsOf: "cap_".utf8, at: 0) }
        // libcap also accepts bare numbers ("cap_12" is not one, but "12" would have been):
        // only letters and underscores make a capability name.
        let body = spelled.dropFirst(4)
        var number: cap_value_t = 0
        guard let first = body.first, (97...122).contains(first),
              body.allSatisfy({ (97...122).contains($0) || $0 == UInt8(ascii: "_") }),
              cap_from_name(String(decoding: spelled, as: UTF8.self), &number) == 0, (0..<64).contains(number) else {
            throw RuntimeError(.invalidArgument, "unknown capability \"\(name)\"")
        }
        guard Int(number) <= kernelLastCap else {
            throw RuntimeError(.unsupported,
                               "capability \(table[Int(number)]) is not supported by the running kernel")
        }
        return CapabilitySet(bits: 1 << UInt64(number))
    }
}
