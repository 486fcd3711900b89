import ImageStore

/// Which entry of an index (a multi-platform image) a pull takes: `linux/amd64` on this machine
/// unless `--platform` names another (`os/arch[/variant]`, Docker's spelling).
public struct PlatformChoice: Sendable, Equatable, CustomStringConvertible {
    public let os: String
    public let architecture: String
    public let variant: String?

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// This machine's platform, as the image store names its architecture.
    public static var host: PlatformChoice {
        #if arch(arm64)
        PlatformChoice(os: "linux", architecture: "arm64", variant: "v8")
        #else
        PlatformChoice(os: "linux", architecture: "amd64")
        #endif
    }

    /// Parses `os/arch[/variant]`; Docker's aliases (`x86_64`, `aarch64`) are read as OCI's names.
    public static func parse(_ text: String) throws -> PlatformChoice {
        let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), !parts.contains(where: \.isEmpty) else {
            throw RegistryError(.invalidArgument, "invalid platform \"\(text)\": expected os/architecture[/variant], e.g. linux/arm64")
        }
        let architecture = switch parts[1] {
        case "x86_64", "x86-64": "amd64"
        case "aarch64": "arm64"
        default: parts[1]
        }
        return PlatformChoice(os: parts[0], architecture: architecture, variant: parts.count == 3 ? parts[2] : nil)
    }

    /// The entry of `manifests` for this platform: os and architecture must match; a variant
    /// asked for must match (arm64's `v8` is also an entry without one); with none asked, an
    /// entry without a variant is preferred, then the first. Attestation entries
    /// (`unknown/unknown`) never match.
    public func pick(from manifests: [OCIImage.Descriptor]) -> OCIImage.Descriptor? {
        let candidates = manifests.filter { entry in
            guard let platform = entry.platform else { return false }
            return platform.os == os && platform.architecture == architecture
        }
        if let variant {
            return candidates.first { $0.platform?.variant == variant }
                ?? (architecture == "arm64" && variant == "v8" ? candidates.first { $0.platform?.variant == nil } : nil)
        }
        return candidates.first { $0.platform?.variant == nil } ?? candidates.first
    }
}
