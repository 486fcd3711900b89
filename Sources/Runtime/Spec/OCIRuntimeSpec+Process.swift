extension OCIRuntimeSpec {
    /// The container's first process: what runs, as whom, with which privileges and limits.
    public struct Process: Codable, Sendable, Equatable {
        public var terminal: Bool?
        public var consoleSize: ConsoleSize?
        public var user: User
        public var args: [String]?
        /// The whole command line as one string; Windows only, kept so such configs round-trip.
        public var commandLine: String?
        public var env: [String]?
        public var cwd: String
        public var capabilities: Capabilities?
        public var rlimits: [Rlimit]?
        public var noNewPrivileges: Bool?
        public var apparmorProfile: String?
        public var oomScoreAdj: Int?
        public var selinuxLabel: String?

        public init(terminal: Bool? = nil, consoleSize: ConsoleSize? = nil, user: User = User(),
                    args: [String]? = nil, commandLine: String? = nil, env: [String]? = nil, cwd: String = "/",
                    capabilities: Capabilities? = nil, rlimits: [Rlimit]? = nil, noNewPrivileges: Bool? = nil,
                    apparmorProfile: String? = nil, oomScoreAdj: Int? = nil, selinuxLabel: String? = nil) {
            self.terminal = terminal
            self.consoleSize = consoleSize
            self.user = user
            self.args = args
            self.commandLine = commandLine
            self.env = env
            self.cwd = cwd
            self.capabilities = capabilities
            self.rlimits = rlimits
            self.noNewPrivileges = noNewPrivileges
            self.apparmorProfile = apparmorProfile
            self.oomScoreAdj = oomScoreAdj
            self.selinuxLabel = selinuxLabel
        }
    }

    /// The size of the container's terminal, in characters.
    public struct ConsoleSize: Codable, Sendable, Equatable {
        public var height: UInt32
        public var width: UInt32

        public init(height: UInt32, width: UInt32) {
            self.height = height
            self.width = width
        }
    }

    /// The ids the process runs with. `umask` is a number (JSON has no octal: 18 is 0o022).
    public struct User: Codable, Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32
        public var umask: UInt32?
        public var additionalGids: [UInt32]?

        public init(uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32]? = nil) {
            self.uid = uid
            self.gid = gid
            self.umask = umask
            self.additionalGids = additionalGids
        }
    }

    /// The process's capability sets, as names ("CAP_CHOWN"); see `CapabilitySet(names:)`.
    public struct Capabilities: Codable, Sendable, Equatable {
        public var bounding: [String]?
        public var effective: [String]?
        public var inheritable: [String]?
        public var permitted: [String]?
        public var ambient: [String]?

        public init(bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
                    permitted: [String]? = nil, ambient: [String]? = nil) {
            self.bounding = bounding
            self.effective = effective
            self.inheritable = inheritable
            self.permitted = permitted
            self.ambient = ambient
        }
    }

    /// One resource limit: `type` is the setrlimit name ("RLIMIT_NOFILE").
    public struct Rlimit: Codable, Sendable, Equatable {
        public var type: String
        public var hard: UInt64
        public var soft: UInt64

        public init(type: String, hard: UInt64, soft: UInt64) {
            self.type = type
            self.hard = hard
            self.soft = soft
        }
    }
}
