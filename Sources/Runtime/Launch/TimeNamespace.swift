/// A time namespace of the container's own (an OCI spec's "time" namespace and its
/// linux.timeOffsets): CLOCK_MONOTONIC and CLOCK_BOOTTIME moved by these offsets inside, so a
/// container restored on another machine sees its clocks go on where they were.
public struct TimeNamespace: Sendable, Equatable {
    /// An offset of one clock: seconds and nanoseconds (the kernel takes a negative second
    /// count, the nanoseconds always in 0..<1e9).
    public struct Offset: Sendable, Equatable {
        public var seconds: Int64
        public var nanoseconds: UInt32

        public init(seconds: Int64, nanoseconds: UInt32) {
            self.seconds = seconds
            self.nanoseconds = nanoseconds
        }
    }

    public var monotonic: Offset?
    public var boottime: Offset?

    public init(monotonic: Offset? = nil, boottime: Offset? = nil) {
        self.monotonic = monotonic
        self.boottime = boottime
    }

    /// /proc/PID/timens_offsets' text ("monotonic SECS NANOSECS" lines); nil with no offset.
    var offsetsText: String? {
        let lines = [("monotonic", monotonic), ("boottime", boottime)].compactMap { name, offset in
            offset.map { "\(name) \($0.seconds) \($0.nanoseconds)\n" }
        }
        return lines.isEmpty ? nil : lines.joined()
    }
}

/// The process's execution domain (personality(2), an OCI spec's linux.personality): LINUX32
/// makes uname(2) report a 32-bit machine (i686), for 32-bit builds on a 64-bit host.
public enum ExecutionDomain: String, Sendable, CaseIterable {
    case linux = "LINUX"
    case linux32 = "LINUX32"

    /// personality(2)'s PER_LINUX and PER_LINUX32.
    var value: UInt {
        switch self {
        case .linux: 0x0000
        case .linux32: 0x0008
        }
    }
}
