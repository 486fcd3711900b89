import CLibseccomp

/// A system-call ABI a seccomp filter covers. The raw value is libseccomp's name ("x86_64");
/// the OCI spec spells it `SCMP_ARCH_` + the upper-cased raw value.
///
/// A filter must list every ABI a process can enter the kernel through: on x86_64 a program can
/// still make 32-bit calls (`int $0x80`) and x32 calls, with different numbers for the same call.
public enum SeccompArchitecture: String, Sendable, Equatable, Hashable, CaseIterable {
    case x86_64, x86, x32
    case aarch64, arm
    case mips, mipsel, mips64, mips64n32, mipsel64, mipsel64n32
    case ppc, ppc64, ppc64le
    case s390, s390x
    case parisc, parisc64
    case riscv64

    /// This machine's own ABI, as libseccomp sees it; nil for one this enum does not name.
    public static let native: SeccompArchitecture? = allCases.first {
        seccomp_arch_resolve_name($0.rawValue) == seccomp_arch_native()
    }

    /// The ABIs a process on this machine's native ABI can also use; berth's default profile
    /// filters them all.
    public static var nativeCompanions: [SeccompArchitecture] {
        #if arch(x86_64)
        return [.x86, .x32]
        #elseif arch(arm64)
        return [.arm]
        #else
        return []
        #endif
    }

    /// The OCI runtime spec's name: "SCMP_ARCH_X86_64".
    public var ociName: String { "SCMP_ARCH_" + rawValue.uppercased() }

    /// Parses an OCI name ("SCMP_ARCH_X86"); nil when it names no architecture we know.
    public init?(ociName: String) {
        guard ociName.hasPrefix("SCMP_ARCH_") else { return nil }
        self.init(rawValue: ociName.dropFirst("SCMP_ARCH_".count).lowercased())
    }
}
