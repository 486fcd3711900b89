#if canImport(Glibc)
import Glibc
#endif

/// A seccomp profile file as `--security-opt seccomp=FILE` takes it: the OCI runtime spec's
/// `linux.seccomp`, or Docker's profile format, which adds to it per-rule `includes` and
/// `excludes` (capabilities, architectures, a minimum kernel) and an `archMap` (the
/// architectures to filter, per native architecture). Docker's own default.json reads as is.
///
/// Decoded with any Codable decoder; `profile(capabilities:)` resolves Docker's conditions
/// against the container, as dockerd does when it creates one, and checks every name.
public struct SeccompProfileDocument: Decodable, Sendable {
    public var defaultAction: String
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var archMap: [ArchitectureGroup]?
    public var flags: [String]?
    public var listenerPath: String?
    public var syscalls: [Syscall]?

    /// `archMap` entry: with this native architecture, filter these too.
    public struct ArchitectureGroup: Decodable, Sendable {
        public var architecture: String
        public var subArchitectures: [String]?
    }

    public struct Syscall: Decodable, Sendable {
        public var names: [String]?
        /// Docker's older spelling: one name.
        public var name: String?
        public var action: String
        public var errnoRet: UInt32?
        public var args: [OCIRuntimeSpec.Linux.SyscallArg]?
        public var includes: Filter?
        public var excludes: Filter?
    }

    /// Docker's condition on a rule. In `includes` every listed capability must be held and the
    /// native architecture must be listed; in `excludes` any one of them drops the rule.
    public struct Filter: Decodable, Sendable {
        public var caps: [String]?
        public var arches: [String]?
        /// "4.8": the running kernel must be at least this (includes) or older (excludes).
        public var minKernel: String?
    }

    /// The profile for a container holding `capabilities`. Throws `RuntimeError(.invalidArgument)`
    /// naming what is wrong: an unknown action, operator, architecture or capability.
    public func profile(capabilities: CapabilitySet) throws -> SeccompProfile {
        let native = SeccompArchitecture.native
        let kernel = Self.runningKernel()
        var rules: [OCIRuntimeSpec.Linux.Syscall] = []
        for (position, call) in (syscalls ?? []).enumerated() {
            let names = (call.names ?? []) + (call.name.map { [$0] } ?? [])
            guard !names.isEmpty else {
                throw RuntimeError(.invalidArgument, "seccomp: syscalls[\(position)] names no system call")
            }
            if let includes = call.includes, try !includes.holds(all: true, capabilities, native, kernel) { continue }
            if let excludes = call.excludes, try excludes.holds(all: false, capabilities, native, kernel) { continue }
            rules.append(.init(names: names, action: call.action, errnoRet: call.errnoRet, args: call.args))
        }
        var filtered = architectures
        if filtered?.isEmpty ?? true, let archMap, let native {
            let group = try archMap.first { try Self.architecture($0.architecture) == native }
            filtered = group.map { [$0.architecture] + ($0.subArchitectures ?? []) }
        }
        let oci = OCIRuntimeSpec.Linux.Seccomp(
            defaultAction: defaultAction, defaultErrnoRet: defaultErrnoRet, architectures: filtered,
            flags: flags, listenerPath: listenerPath, syscalls: rules)
        return try SeccompProfile(oci: oci)
    }

    /// An architecture as OCI ("SCMP_ARCH_X86_64") or Docker's `arches` ("amd64", "arm64") name it.
    static func architecture(_ name: String) throws -> SeccompArchitecture {
        let goNames: [String: SeccompArchitecture] = [
            "amd64": .x86_64, "386": .x86, "arm64": .aarch64, "mips64le": .mipsel64, "mipsle": .mipsel,
            "mips64n32": .mips64n32, "mips64len32": .mipsel64n32,
        ]
        if let architecture = SeccompArchitecture(ociName: name) ?? goNames[name] ?? SeccompArchitecture(rawValue: name) {
            return architecture
        }
        throw RuntimeError(.invalidArgument, "seccomp: unknown architecture \"\(name)\"")
    }

    /// The running kernel's (major, minor), from uname; nil when it can't be read.
    static func runningKernel() -> (Int, Int)? {
        var names = utsname()
        guard uname(&names) == 0 else { return nil }
        let release = withUnsafeBytes(of: names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return version(release)
    }

    static func version(_ text: String) -> (Int, Int)? {
        let parts = text.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }
}

extension SeccompProfileDocument.Filter {
    /// For `includes` (`all`): every condition given holds. For `excludes`: any one holds.
    func holds(all: Bool, _ capabilities: CapabilitySet, _ native: SeccompArchitecture?,
               _ kernel: (Int, Int)?) throws -> Bool {
        var results: [Bool] = []
        for name in caps ?? [] {
            results.append(capabilities.contains(try CapabilitySet(names: [name])))
        }
        if let arches, !arches.isEmpty {
            let listed = try arches.map(SeccompProfileDocument.architecture)
            results.append(native.map(listed.contains) ?? false)
        }
        if let minKernel {
            guard let wanted = SeccompProfileDocument.version(minKernel) else {
                throw RuntimeError(.invalidArgument, "seccomp: minKernel \"\(minKernel)\" is not a kernel version")
            }
            results.append(kernel.map { $0 >= wanted } ?? false)
        }
        return all ? results.allSatisfy { $0 } : results.contains(true)
    }
}
