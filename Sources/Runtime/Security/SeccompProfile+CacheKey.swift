import CLibseccomp

extension SeccompProfile {
    /// A name for the compiled program that is stable across processes and runs (Swift's own
    /// `hashValue` is seeded per process): 16 hex digits of FNV-1a 64 over a canonical
    /// serialization of the profile. The cache file is `<cacheDirectory>/<cacheKey>.bpf`.
    ///
    /// Besides the profile, the key covers the libseccomp version and the native ABI, since
    /// either changes the program for the same profile. Bump `format` when our compiler changes
    /// what it emits for the same input. The fields are fed as numbers, not text: this runs on
    /// every container start, and building a description string costs ten times as much.
    public var cacheKey: String {
        let format: UInt64 = 3
        var hash = FNV1a64()
        hash.combine("berth-seccomp")
        hash.combine(format)
        if let version = seccomp_version() {
            let v = version.pointee
            hash.combine(UInt64(v.major) << 32 | UInt64(v.minor) << 16 | UInt64(v.micro))
        }
        hash.combine(UInt64(seccomp_arch_native()))
        hash.combine(UInt64(defaultAction.libseccompValue))
        hash.combine(UInt64(compilesAsRanges ? 1 : 0))
        hash.combine(UInt64(architectures.count))
        for architecture in architectures { hash.combine(architecture.rawValue) }
        hash.combine(UInt64(rules.count))
        for rule in rules {
            hash.combine(UInt64(rule.action.libseccompValue))
            hash.combine(UInt64(rule.names.count))
            for name in rule.names { hash.combine(name) }
            hash.combine(UInt64(rule.conditions.count))
            for condition in rule.conditions {
                hash.combine(UInt64(condition.index) << 32 | UInt64(condition.op.libseccompValue.rawValue))
                hash.combine(condition.value)
                hash.combine(condition.valueTwo)
            }
        }
        let hex = String(hash.value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// FNV-1a, 64 bit: small, stable, good enough to name cache entries (not a security boundary:
/// whoever can write the cache directory can put any program there anyway).
struct FNV1a64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func combine(byte: UInt8) {
        value ^= UInt64(byte)
        value &*= 0x0000_0100_0000_01b3
    }

    /// Eight bytes, little-endian.
    mutating func combine(_ number: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { combine(byte: UInt8(truncatingIfNeeded: number >> UInt64(shift))) }
    }

    /// The UTF-8 bytes and a terminating zero, so "ab","c" and "a","bc" differ.
    mutating func combine(_ text: String) {
        for byte in text.utf8 { combine(byte: byte) }
        combine(byte: 0)
    }
}
