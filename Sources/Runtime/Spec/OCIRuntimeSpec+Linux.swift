extension OCIRuntimeSpec {
    /// Everything Linux-specific: namespaces, id mappings, cgroup resources, seccomp, and the
    /// paths hidden or made read-only inside the container.
    public struct Linux: Codable, Sendable, Equatable {
        public var namespaces: [Namespace]?
        public var uidMappings: [IDMapping]?
        public var gidMappings: [IDMapping]?
        public var sysctl: [String: String]?
        public var resources: Resources?
        public var cgroupsPath: String?
        public var seccomp: Seccomp?
        /// "private", "shared", "slave" or "unbindable" (the propagation of the root mount).
        public var rootfsPropagation: String?
        public var maskedPaths: [String]?
        public var readonlyPaths: [String]?
        public var mountLabel: String?
        public var devices: [Device]?
        public var personality: Personality?
        /// The time namespace's clock offsets, by clock name ("monotonic", "boottime").
        public var timeOffsets: [String: TimeOffset]?

        public init(namespaces: [Namespace]? = nil, uidMappings: [IDMapping]? = nil, gidMappings: [IDMapping]? = nil,
                    sysctl: [String: String]? = nil, resources: Resources? = nil, cgroupsPath: String? = nil,
                    seccomp: Seccomp? = nil, rootfsPropagation: String? = nil, maskedPaths: [String]? = nil,
                    readonlyPaths: [String]? = nil, mountLabel: String? = nil, devices: [Device]? = nil,
                    personality: Personality? = nil, timeOffsets: [String: TimeOffset]? = nil) {
            self.namespaces = namespaces
            self.uidMappings = uidMappings
            self.gidMappings = gidMappings
            self.sysctl = sysctl
            self.resources = resources
            self.cgroupsPath = cgroupsPath
            self.seccomp = seccomp
            self.rootfsPropagation = rootfsPropagation
            self.maskedPaths = maskedPaths
            self.readonlyPaths = readonlyPaths
            self.mountLabel = mountLabel
            self.devices = devices
            self.personality = personality
            self.timeOffsets = timeOffsets
        }
    }
}

extension OCIRuntimeSpec.Linux {
    /// A namespace to create (no path) or to join (path of an nsfs file such as /proc/1/ns/net).
    /// `type` is "pid", "network", "mount", "ipc", "uts", "user", "cgroup" or "time".
    public struct Namespace: Codable, Sendable, Equatable {
        public var type: String
        public var path: String?

        public init(type: String, path: String? = nil) {
            self.type = type
            self.path = path
        }
    }

    /// `size` ids starting at `containerID` inside map to ids starting at `hostID` outside.
    public struct IDMapping: Codable, Sendable, Equatable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32

        public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
            self.containerID = containerID
            self.hostID = hostID
            self.size = size
        }
    }

    /// A device node the runtime creates in the container's /dev. `type` is "c", "b", "u" or "p".
    public struct Device: Codable, Sendable, Equatable {
        public var type: String
        public var path: String
        public var major: Int64?
        public var minor: Int64?
        public var fileMode: UInt32?
        public var uid: UInt32?
        public var gid: UInt32?

        public init(type: String, path: String, major: Int64? = nil, minor: Int64? = nil,
                    fileMode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil) {
            self.type = type
            self.path = path
            self.major = major
            self.minor = minor
            self.fileMode = fileMode
            self.uid = uid
            self.gid = gid
        }
    }

    /// One clock's offset in a time namespace: seconds, and nanoseconds added to them.
    public struct TimeOffset: Codable, Sendable, Equatable {
        public var secs: Int64?
        public var nanosecs: UInt32?

        public init(secs: Int64? = nil, nanosecs: UInt32? = nil) {
            self.secs = secs
            self.nanosecs = nanosecs
        }
    }

    /// The execution domain of the process: `domain` is "LINUX" or "LINUX32".
    public struct Personality: Codable, Sendable, Equatable {
        public var domain: String
        public var flags: [String]?

        public init(domain: String, flags: [String]? = nil) {
            self.domain = domain
            self.flags = flags
        }
    }
}
