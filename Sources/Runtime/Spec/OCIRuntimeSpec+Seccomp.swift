extension OCIRuntimeSpec.Linux {
    /// A seccomp profile as the OCI spec writes it (Docker's and Podman's JSON profiles have the
    /// same shape). Actions, architectures and operators are libseccomp's names
    /// ("SCMP_ACT_ERRNO", "SCMP_ARCH_X86_64", "SCMP_CMP_MASKED_EQ"); `SeccompProfile(oci:)`
    /// checks and converts them.
    public struct Seccomp: Codable, Sendable, Equatable {
        public var defaultAction: String
        /// The errno of an SCMP_ACT_ERRNO default action (EPERM when nil).
        public var defaultErrnoRet: UInt32?
        public var architectures: [String]?
        /// seccomp(2) flags such as "SECCOMP_FILTER_FLAG_LOG".
        public var flags: [String]?
        public var listenerPath: String?
        public var listenerMetadata: String?
        public var syscalls: [Syscall]?

        public init(defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil,
                    flags: [String]? = nil, listenerPath: String? = nil, listenerMetadata: String? = nil,
                    syscalls: [Syscall]? = nil) {
            self.defaultAction = defaultAction
            self.defaultErrnoRet = defaultErrnoRet
            self.architectures = architectures
            self.flags = flags
            self.listenerPath = listenerPath
            self.listenerMetadata = listenerMetadata
            self.syscalls = syscalls
        }
    }

    /// A rule: these system calls get `action` when all `args` conditions hold.
    public struct Syscall: Codable, Sendable, Equatable {
        public var names: [String]
        public var action: String
        /// The errno of an SCMP_ACT_ERRNO action (EPERM when nil), or SCMP_ACT_TRACE's message.
        public var errnoRet: UInt32?
        public var args: [SyscallArg]?

        public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [SyscallArg]? = nil) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
        }
    }

    /// A condition on argument `index`: `argument <op> value`, or for SCMP_CMP_MASKED_EQ
    /// `(argument & value) == valueTwo`.
    public struct SyscallArg: Codable, Sendable, Equatable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        public var op: String

        public init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: String) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }
    }
}
