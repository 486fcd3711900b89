extension OCIRuntimeSpec.Linux {
    /// Block-I/O weights and throttles. Weights are 10 … 1000; throttles are per device.
    public struct BlockIO: Codable, Sendable, Equatable {
        public var weight: UInt16?
        public var leafWeight: UInt16?
        public var weightDevice: [WeightDevice]?
        public var throttleReadBpsDevice: [ThrottleDevice]?
        public var throttleWriteBpsDevice: [ThrottleDevice]?
        public var throttleReadIOPSDevice: [ThrottleDevice]?
        public var throttleWriteIOPSDevice: [ThrottleDevice]?

        public init(weight: UInt16? = nil, leafWeight: UInt16? = nil, weightDevice: [WeightDevice]? = nil,
                    throttleReadBpsDevice: [ThrottleDevice]? = nil, throttleWriteBpsDevice: [ThrottleDevice]? = nil,
                    throttleReadIOPSDevice: [ThrottleDevice]? = nil, throttleWriteIOPSDevice: [ThrottleDevice]? = nil) {
            self.weight = weight
            self.leafWeight = leafWeight
            self.weightDevice = weightDevice
            self.throttleReadBpsDevice = throttleReadBpsDevice
            self.throttleWriteBpsDevice = throttleWriteBpsDevice
            self.throttleReadIOPSDevice = throttleReadIOPSDevice
            self.throttleWriteIOPSDevice = throttleWriteIOPSDevice
        }
    }

    /// The weight of one block device (major:minor).
    public struct WeightDevice: Codable, Sendable, Equatable {
        public var major: Int64
        public var minor: Int64
        public var weight: UInt16?
        public var leafWeight: UInt16?

        public init(major: Int64, minor: Int64, weight: UInt16? = nil, leafWeight: UInt16? = nil) {
            self.major = major
            self.minor = minor
            self.weight = weight
            self.leafWeight = leafWeight
        }
    }

    /// A rate limit (bytes or operations per second) on one block device (major:minor).
    public struct ThrottleDevice: Codable, Sendable, Equatable {
        public var major: Int64
        public var minor: Int64
        public var rate: UInt64

        public init(major: Int64, minor: Int64, rate: UInt64) {
            self.major = major
            self.minor = minor
            self.rate = rate
        }
    }
}
