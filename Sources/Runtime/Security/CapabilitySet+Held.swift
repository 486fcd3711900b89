extension CapabilitySet {
    /// The capabilities this process itself may pass on (its permitted set). A "privileged"
    /// container gets these, not every capability the kernel knows: berth may run under a
    /// supervisor that withheld some, and capset would refuse to grant them (moby does the same).
    public static var held: CapabilitySet {
        guard let status = try? readSmallFile("/proc/self/status") else { return .all }
        for line in status.split(separator: "\n") where line.hasPrefix("CapPrm:") {
            if let bits = UInt64(line.dropFirst("CapPrm:".count).trimmingWhitespace(), radix: 16) {
                return CapabilitySet(bits: bits).intersection(.all)
            }
        }
        return .all
    }

    public func intersection(_ other: CapabilitySet) -> CapabilitySet { CapabilitySet(bits: bits & other.bits) }
}
