extension OCIRuntimeSpec.Linux {
    /// cgroup limits for the container. `unified` holds raw cgroup v2 files ("memory.high": "1G").
    public struct Resources: Codable, Sendable, Equatable {
        public var memory: Memory?
        public var cpu: CPU?
        public var pids: Pids?
        public var devices: [DeviceRule]?
        public var blockIO: BlockIO?
        public var hugepageLimits: [HugepageLimit]?
        public var network: Network?
        public var unified: [String: String]?

        public init(memory: Memory? = nil, cpu: CPU? = nil, pids: Pids? = nil, devices: [DeviceRule]? = nil,
                    blockIO: BlockIO? = nil, hugepageLimits: [HugepageLimit]? = nil, network: Network? = nil,
                    unified: [String: String]? = nil) {
            self.memory = memory
            self.cpu = cpu
            self.pids = pids
            self.devices = devices
            self.blockIO = blockIO
            self.hugepageLimits = hugepageLimits
            self.network = network
            self.unified = unified
        }
    }

    /// Memory limits in bytes; -1 means unlimited. `swap` is memory plus swap (v1 semantics).
    public struct Memory: Codable, Sendable, Equatable {
        public var limit: Int64?
        public var reservation: Int64?
        public var swap: Int64?
        public var kernel: Int64?
        public var kernelTCP: Int64?
        public var swappiness: UInt64?
        public var disableOOMKiller: Bool?
        public var useHierarchy: Bool?
        public var checkBeforeUpdate: Bool?

        public init(limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil, kernel: Int64? = nil,
                    kernelTCP: Int64? = nil, swappiness: UInt64? = nil, disableOOMKiller: Bool? = nil,
                    useHierarchy: Bool? = nil, checkBeforeUpdate: Bool? = nil) {
            self.limit = limit
            self.reservation = reservation
            self.swap = swap
            self.kernel = kernel
            self.kernelTCP = kernelTCP
            self.swappiness = swappiness
            self.disableOOMKiller = disableOOMKiller
            self.useHierarchy = useHierarchy
            self.checkBeforeUpdate = checkBeforeUpdate
        }
    }

    /// CPU share, CFS bandwidth (`quota` µs per `period` µs), real-time budget and cpusets.
    public struct CPU: Codable, Sendable, Equatable {
        public var shares: UInt64?
        public var quota: Int64?
        public var burst: UInt64?
        public var period: UInt64?
        public var realtimeRuntime: Int64?
        public var realtimePeriod: UInt64?
        public var cpus: String?
        public var mems: String?
        public var idle: Int64?

        public init(shares: UInt64? = nil, quota: Int64? = nil, burst: UInt64? = nil, period: UInt64? = nil,
                    realtimeRuntime: Int64? = nil, realtimePeriod: UInt64? = nil, cpus: String? = nil,
                    mems: String? = nil, idle: Int64? = nil) {
            self.shares = shares
            self.quota = quota
            self.burst = burst
            self.period = period
            self.realtimeRuntime = realtimeRuntime
            self.realtimePeriod = realtimePeriod
            self.cpus = cpus
            self.mems = mems
            self.idle = idle
        }
    }

    /// The most tasks the container may have; 0 or less means no limit.
    public struct Pids: Codable, Sendable, Equatable {
        public var limit: Int64

        public init(limit: Int64) { self.limit = limit }
    }

    /// One line of the device cgroup's list: allow or deny `access` ("rwm") to devices of
    /// `type` ("a", "c", "b") with the numbers given (nil = any).
    public struct DeviceRule: Codable, Sendable, Equatable {
        public var allow: Bool
        public var type: String?
        public var major: Int64?
        public var minor: Int64?
        public var access: String?

        public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
            self.allow = allow
            self.type = type
            self.major = major
            self.minor = minor
            self.access = access
        }
    }

    /// A limit on huge pages of one size ("2MB", "1GB"), in bytes.
    public struct HugepageLimit: Codable, Sendable, Equatable {
        public var pageSize: String
        public var limit: UInt64

        public init(pageSize: String, limit: UInt64) {
            self.pageSize = pageSize
            self.limit = limit
        }
    }

    /// The net_cls class id and net_prio priorities (cgroup v1 only).
    public struct Network: Codable, Sendable, Equatable {
        public var classID: UInt32?
        public var priorities: [InterfacePriority]?

        public init(classID: UInt32? = nil, priorities: [InterfacePriority]? = nil) {
            self.classID = classID
            self.priorities = priorities
        }
    }

    /// The net_prio priority of traffic leaving through one interface.
    public struct InterfacePriority: Codable, Sendable, Equatable {
        public var name: String
        public var priority: UInt32

        public init(name: String, priority: UInt32) {
            self.name = name
            self.priority = priority
        }
    }
}
