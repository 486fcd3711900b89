/// One network as berth keeps it in `networks/<name>/network.json`: what `network inspect`
/// shows, and all a container needs to join it.
public struct NetworkDefinition: Codable, Sendable, Equatable {
    public enum Driver: String, Codable, Sendable {
        /// A Linux bridge berth makes, a veth pair per container, berth's address leases and
        /// nftables rules.
        case bridge
        /// A CNI plugin chain, from a conflist the network keeps a copy of.
        case cni
    }

    public var name: String
    /// 64 hex characters.
    public var id: String
    public var driver: Driver
    /// The IPv4 subnet containers get addresses from (bridge networks).
    public var subnet: String
    public var gateway: String
    /// The bridge device (bridge networks): `berth0` for the default, `br-<id prefix>` for others.
    public var bridge: String
    public var mtu: Int
    /// RFC 3339.
    public var created: String
    public var labels: [String: String]
    /// The default network has no name resolution between containers, as Docker's `bridge`.
    public var isDefault: Bool
    /// The CNI network's name inside its conflist (cni networks).
    public var cniNetworkName: String?

    public init(name: String, id: String, driver: Driver, subnet: String, gateway: String, bridge: String,
                mtu: Int, created: String, labels: [String: String], isDefault: Bool, cniNetworkName: String? = nil) {
        self.name = name
        self.id = id
        self.driver = driver
        self.subnet = subnet
        self.gateway = gateway
        self.bridge = bridge
        self.mtu = mtu
        self.created = created
        self.labels = labels
        self.isDefault = isDefault
        self.cniNetworkName = cniNetworkName
    }

    /// The subnet and gateway as addresses (checked when the network was created).
    public var addressing: (subnet: IPv4Subnet, gateway: IPv4Address)? {
        guard let subnet = IPv4Subnet(subnet), let gateway = IPv4Address(gateway) else { return nil }
        return (subnet, gateway)
    }

    /// The name `--network` takes for the default network.
    public static let defaultName = "bridge"
    /// The default network's bridge device.
    public static let defaultBridge = "berth0"
    /// Names `--network` gives a meaning of its own; no network may take them.
    public static let reservedNames: Set<String> = ["bridge", "host", "none", "default"]

    /// Docker's rule for a network name, `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 64 bytes (it is
    /// also a directory name in the store).
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        func alnum(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
        return alnum(bytes[0]) && bytes.dropFirst().allSatisfy { alnum($0) || $0 == 95 || $0 == 46 || $0 == 45 }
    }
}
