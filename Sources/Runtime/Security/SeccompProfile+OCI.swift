#if canImport(Glibc)
import Glibc
#endif

extension SeccompProfile {
    /// Converts the seccomp section of a config.json, checking every name on the way so that a
    /// typo is reported before any process starts. Throws `RuntimeError(.invalidArgument)`
    /// naming an unknown action, operator, architecture or flag, and `.unsupported` for
    /// SCMP_ACT_NOTIFY (berth has no seccomp agent).
    ///
    /// Conventions follow runc, so profiles written for Docker or Podman behave the same:
    /// an ERRNO or TRACE action without `errnoRet` means EPERM; a rule whose conditions name one
    /// argument more than once becomes one rule per condition (ORed), because libseccomp takes
    /// one condition per argument; rules that repeat the default action are dropped by the
    /// compiler. The seccomp(2) `flags` are checked but not applied: the child loads the
    /// program with prctl, which takes none, and each known flag only adds logging (LOG), relaxes
    /// a mitigation (SPEC_ALLOW) or concerns other threads the child does not have (TSYNC).
    public init(oci: OCIRuntimeSpec.Linux.Seccomp) throws {
        if let listener = oci.listenerPath, !listener.isEmpty {
            throw RuntimeError(.unsupported, "seccomp: a listener (\(listener)) is not supported")
        }
        for flag in oci.flags ?? [] where !Self.knownOCIFlags.contains(flag) {
            throw RuntimeError(.invalidArgument, "seccomp: unknown flag \"\(flag)\"")
        }
        let architectures = try (oci.architectures ?? []).map { name in
            guard let architecture = SeccompArchitecture(ociName: name) else {
                throw RuntimeError(.invalidArgument, "seccomp: unknown architecture \"\(name)\"")
            }
            return architecture
        }
        var rules: [SeccompRule] = []
        for syscall in oci.syscalls ?? [] {
            let action = try SeccompAction(oci: syscall.action, errnoRet: syscall.errnoRet)
            let conditions = try (syscall.args ?? []).map(SeccompCondition.init(oci:))
            if conditions.count < 2 || Set(conditions.map(\.index)).count == conditions.count {
                rules.append(SeccompRule(names: syscall.names, action: action, conditions: conditions))
            } else {
                rules += conditions.map { SeccompRule(names: syscall.names, action: action, conditions: [$0]) }
            }
        }
        self.init(defaultAction: try SeccompAction(oci: oci.defaultAction, errnoRet: oci.defaultErrnoRet),
                  architectures: architectures, rules: rules)
    }

    static let knownOCIFlags: Set<String> = [
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    ]
}

extension SeccompAction {
    /// Parses an OCI action name; `errnoRet` is the errno (ERRNO) or message (TRACE).
    public init(oci name: String, errnoRet: UInt32? = nil) throws {
        let data = try Self.returnData(errnoRet)
        switch name {
        case "SCMP_ACT_ALLOW": self = .allow
        case "SCMP_ACT_ERRNO": self = .errno(data)
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": self = .killThread
        case "SCMP_ACT_KILL_PROCESS": self = .killProcess
        case "SCMP_ACT_TRAP": self = .trap
        case "SCMP_ACT_LOG": self = .log
        case "SCMP_ACT_TRACE": self = .trace(data)
        case "SCMP_ACT_NOTIFY":
            throw RuntimeError(.unsupported, "seccomp: action SCMP_ACT_NOTIFY is not supported (no seccomp agent)")
        default:
            throw RuntimeError(.invalidArgument, "seccomp: unknown action \"\(name)\"")
        }
    }

    /// The 16 bits of SECCOMP_RET_DATA; EPERM when the profile gives none.
    private static func returnData(_ errnoRet: UInt32?) throws -> UInt16 {
        guard let errnoRet else { return UInt16(EPERM) }
        guard let data = UInt16(exactly: errnoRet) else {
            throw RuntimeError(.invalidArgument, "seccomp: errnoRet \(errnoRet) does not fit in 16 bits")
        }
        return data
    }
}

extension SeccompOperator {
    /// Parses an OCI operator name ("SCMP_CMP_MASKED_EQ").
    public init(oci name: String) throws {
        switch name {
        case "SCMP_CMP_NE": self = .notEqual
        case "SCMP_CMP_LT": self = .lessThan
        case "SCMP_CMP_LE": self = .lessThanOrEqual
        case "SCMP_CMP_EQ": self = .equal
        case "SCMP_CMP_GE": self = .greaterThanOrEqual
        case "SCMP_CMP_GT": self = .greaterThan
        case "SCMP_CMP_MASKED_EQ": self = .maskedEqual
        default: throw RuntimeError(.invalidArgument, "seccomp: unknown operator \"\(name)\"")
        }
    }
}

extension SeccompCondition {
    /// Converts one OCI argument condition; system calls have six arguments (0 … 5).
    public init(oci arg: OCIRuntimeSpec.Linux.SyscallArg) throws {
        guard arg.index < 6 else {
            throw RuntimeError(.invalidArgument, "seccomp: argument index \(arg.index) is out of range 0…5")
        }
        self.init(index: arg.index, op: try SeccompOperator(oci: arg.op), value: arg.value,
                  valueTwo: arg.valueTwo ?? 0)
    }
}
