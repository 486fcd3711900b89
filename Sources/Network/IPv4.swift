/// An IPv4 address, as the kernel and nftables take it (network byte order in `bytes`).
public struct IPv4Address: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(bytes: (UInt8, UInt8, UInt8, UInt8)) {
        value = UInt32(bytes.0) << 24 | UInt32(bytes.1) << 16 | UInt32(bytes.2) << 8 | UInt32(bytes.3)
    }

    /// Dotted quad only: four decimal numbers 0-255, no leading zeros (which some readers take
    /// as octal), nothing else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let n = UInt8(part),
                  part.count == 1 || part.first != "0" else { return nil }
            value = value << 8 | UInt32(n)
        }
        self.value = value
    }

    public var bytes: [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }

    public var description: String { bytes.map(String.init).joined(separator: ".") }

    public static let any = IPv4Address(0)
    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }
}

/// An IPv4 network: an address and a prefix length, the host bits zero.
public struct IPv4Subnet: Sendable, Hashable, CustomStringConvertible {
    public let network: IPv4Address
    public let prefixLength: Int

    /// `network` with its host bits cleared.
    public init(network: IPv4Address, prefixLength: Int) {
        self.prefixLength = prefixLength
        self.network = IPv4Address(network.value & Self.mask(prefixLength))
    }

    /// "10.89.0.0/24". The host bits must be zero, as Docker requires of --subnet.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(String(parts[0])),
              parts[1].allSatisfy(\.isASCII), let length = Int(parts[1]), (0...32).contains(length),
              address.value & ~Self.mask(length) == 0 else { return nil }
        self.init(network: address, prefixLength: length)
    }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << UInt32(32 - length) }

    public var mask: UInt32 { Self.mask(prefixLength) }
    public var broadcast: IPv4Address { IPv4Address(network.value | ~mask) }
    public var description: String { "\(network)/\(prefixLength)" }

    public func contains(_ address: IPv4Address) -> Bool { address.value & mask == network.value }

    public func overlaps(_ other: IPv4Subnet) -> Bool {
        let shorter = min(prefixLength, other.prefixLength)
        let m = Self.mask(shorter)
        return network.value & m == other.network.value & m
    }

    /// The first usable address: Docker's default gateway.
    public var firstHost: IPv4Address { IPv4Address(network.value + 1) }

    /// Addresses a container may get: not the network, the broadcast, or `excluding`.
    public func isAssignable(_ address: IPv4Address, excluding gateway: IPv4Address) -> Bool {
        contains(address) && address != network && address != broadcast && address != gateway
    }
}
