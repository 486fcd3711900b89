import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// The networks of one state root: `networks/<name>/network.json` and each one's leases. The
/// default network (`bridge`) is made the first time anything asks for it.
public struct NetworkStore: Sendable {
    /// `<state root>/networks`.
    public let directory: String

    /// The time now as RFC 3339, for the default network's creation.
    let now: @Sendable () -> String

    /// The default network's bridge: `berth0` for the default state root; another root gets
    /// one of its own, so two roots never hand out addresses on one bridge.
    let defaultBridge: String

    public init(stateRoot: String, now: @escaping @Sendable () -> String) throws {
        self.now = now
        directory = stateRoot + "/networks"
        defaultBridge = stateRoot == "/var/lib/berth" ? NetworkDefinition.defaultBridge : Self.bridgeName(forRoot: stateRoot)
        do {
            try Directory.make(directory, mode: 0o700)
        } catch {
            throw NetworkError.system("cannot create \(directory)", errno: error.errno)
        }
    }

    /// Held while networks are created or removed and subnets picked.
    var lockPath: String { directory + "/.lock" }

    func path(of name: String) -> String { directory + "/" + name }

    /// What `network create` asks for.
    public struct CreateRequest: Sendable {
        public var name: String
        public var driver: NetworkDefinition.Driver = .bridge
        public var subnet: String?
        public var gateway: String?
        public var labels: [String: String] = [:]
        /// The conflist's text (`--driver cni --config FILE`); read from `cniConfigFile` when nil.
        public var cniConfig: [UInt8]?
        /// The conflist's path, read when `cniConfig` is nil and named in errors.
        public var cniConfigFile: String?
        public var created: String

        public init(name: String, created: String) {
            self.name = name
            self.created = created
        }
    }

    /// Creates a bridge or CNI network; nothing is made on the host until a container joins it.
    public func create(_ request: CreateRequest) throws -> NetworkDefinition {
        guard NetworkDefinition.isValidName(request.name) else {
            throw NetworkError(.invalidArgument, "invalid network name \"\(request.name)\": use letters, digits, '_', '.' "
                               + "and '-', starting with a letter or digit, at most 64 characters")
        }
        guard !NetworkDefinition.reservedNames.contains(request.name) else {
            throw NetworkError(.conflict, "network name \"\(request.name)\" is reserved: pick another name")
        }
        if request.driver == .cni { return try makeCNI(request) }
        return try FileLock.withLock(lockPath) {
            try make(request.name, subnetText: request.subnet, gatewayText: request.gateway, labels: request.labels,
                     created: request.created, isDefault: false)
        }
    }

    /// A CNI network: its conflist checked (it parses, names its plugins, each of them is
    /// installed) and kept in the network's directory, which its containers' ADD and DEL read.
    private func makeCNI(_ request: CreateRequest) throws -> NetworkDefinition {
        let file = request.cniConfigFile ?? "the CNI configuration"
        guard request.subnet == nil, request.gateway == nil else {
            throw NetworkError(.invalidArgument, "--subnet and --gateway do not apply to --driver cni: the conflist's ipam "
                               + "gives the addresses")
        }
        var text = request.cniConfig
        if text == nil, let path = request.cniConfigFile {
            do {
                text = try FileIO.readFile(path)
            } catch {
                throw NetworkError(.notFound, "cannot read the CNI configuration \(path)", errno: error.errno)
            }
        }
        guard let text else {
            throw NetworkError(.invalidArgument, "--driver cni needs --config FILE: the CNI network configuration list to use")
        }
        let configuration = try CNIConfiguration.parse(text, file: file)
        let missing = configuration.missingPlugins()
        guard missing.isEmpty else {
            throw NetworkError(.notFound, "CNI plugin\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) of \(file) "
                               + "not found in \(CNIConfiguration.pluginDirectories.joined(separator: ":")): install "
                               + "\(missing.count > 1 ? "them" : "it") (Debian: containernetworking-plugins) or set BERTH_CNI_PATH")
        }
        let (subnetText, gateway) = configuration.addressing
        return try FileLock.withLock(lockPath) {
            if access(path(of: request.name) + "/network.json", F_OK) == 0 {
                throw NetworkError(.conflict, "network with name \(request.name) already exists: pick another name or remove it")
            }
            for other in definitions() {
                if other.driver == .cni && other.cniNetworkName == configuration.name {
                    throw NetworkError(.conflict, "CNI network name \(configuration.name) of \(file) is already network "
                                       + "\(other.name)'s: its plugins would share their state, so give the conflist another name")
                }
                if let subnet = IPv4Subnet(subnetText), let theirs = IPv4Subnet(other.subnet), theirs.overlaps(subnet) {
                    throw NetworkError(.conflict, "subnet \(subnet) of \(file) overlaps network \(other.name)'s: pick another subnet")
                }
            }
            let definition = NetworkDefinition(
                name: request.name, id: Self.randomID(), driver: .cni, subnet: subnetText, gateway: gateway,
                bridge: configuration.bridgeName, mtu: configuration.mtu, created: request.created, labels: request.labels,
                isDefault: false, cniNetworkName: configuration.name)
            try publish(definition, extra: [(CNIConfiguration.fileName, text)])
            return definition
        }
    }

    /// The definitions in the store now (the default network's only once it was made).
    private func definitions() -> [NetworkDefinition] {
        ((try? Directory.names(atPath: directory)) ?? []).compactMap { name in
            name.hasPrefix(".") ? nil : try? StoreFile.read(NetworkDefinition.self, path(of: name) + "/network.json")
        }
    }

    /// Every network, the default one first (made now if it was not yet).
    public func list() throws -> [NetworkDefinition] {
        let defaultNetwork = try defaultNetwork()
        let names = (try? Directory.names(atPath: directory)) ?? []
        var others: [NetworkDefinition] = []
        for name in names.sorted() where !name.hasPrefix(".") && name != NetworkDefinition.defaultName {
            if let definition = try? StoreFile.read(NetworkDefinition.self, path(of: name) + "/network.json") {
                others.append(definition)
            }
        }
        return [defaultNetwork] + others
    }

    /// The network `name` names: its name, full id or a unique id prefix.
    public func find(_ name: String) throws -> NetworkDefinition {
        if name == NetworkDefinition.defaultName || name == "default" { return try defaultNetwork() }
        if NetworkDefinition.isValidName(name),
           let definition = try StoreFile.read(NetworkDefinition.self, path(of: name) + "/network.json") {
            return definition
        }
        let matches = try list().filter { !name.isEmpty && $0.id.hasPrefix(name) }
        guard matches.count == 1, let found = matches.first else {
            throw NetworkError(.notFound, matches.isEmpty
                ? "no such network: \(name) (see berth network ls)"
                : "network id prefix \(name) is ambiguous: give more of it")
        }
        return found
    }

    /// The default network, made on first use with a subnet no route of the host's covers.
    public func defaultNetwork() throws -> NetworkDefinition {
        let file = path(of: NetworkDefinition.defaultName) + "/network.json"
        if let definition = try StoreFile.read(NetworkDefinition.self, file) { return definition }
        return try FileLock.withLock(lockPath) {
            if let definition = try StoreFile.read(NetworkDefinition.self, file) { return definition }
            return try make(NetworkDefinition.defaultName, subnetText: nil, gatewayText: nil, labels: [:],
                            created: now(), isDefault: true)
        }
    }

    /// Removes a network no container uses.
    public func remove(_ definition: NetworkDefinition, inUseBy users: [String]) throws {
        guard !definition.isDefault else {
            throw NetworkError(.invalidArgument, "the default network \"bridge\" cannot be removed")
        }
        guard users.isEmpty else {
            throw NetworkError(.conflict, "network \(definition.name) is in use by container \(users.joined(separator: ", ")): "
                               + "stop and remove it first")
        }
        try FileLock.withLock(lockPath) {
            let hidden = directory + "/.removing-" + definition.name
            guard rename(path(of: definition.name), hidden) == 0 else {
                throw NetworkError.system("cannot remove the network \(definition.name)")
            }
            try? FileTree.remove(hidden)
        }
    }

    private func make(_ name: String, subnetText: String?, gatewayText: String?, labels: [String: String],
                      created: String, isDefault: Bool) throws -> NetworkDefinition {
        let target = path(of: name)
        if access(target + "/network.json", F_OK) == 0 {
            throw NetworkError(.conflict, "network with name \(name) already exists: pick another name or remove it")
        }
        let taken = definitions().compactMap { definition -> (String, IPv4Subnet)? in
            IPv4Subnet(definition.subnet).map { (definition.name, $0) }
        }
        let routes = try Netlink().routes().filter { $0.0.prefixLength > 0 }
        let subnet: IPv4Subnet
        if let subnetText {
            guard let parsed = IPv4Subnet(subnetText), parsed.prefixLength <= 30, parsed.prefixLength >= 8 else {
                throw NetworkError(.invalidArgument, "--subnet \(subnetText) is not an IPv4 subnet such as 10.89.0.0/24 "
                                   + "(host bits zero, prefix length 8 to 30)")
            }
            if let (other, _) = taken.first(where: { $0.1.overlaps(parsed) }) {
                throw NetworkError(.conflict, "subnet \(parsed) overlaps network \(other)'s: pick another --subnet")
            }
            if let (route, index) = routes.first(where: { $0.0.overlaps(parsed) }) {
                throw NetworkError(.conflict, "subnet \(parsed) overlaps the host's route to \(route) on "
                                   + "\(Netlink.linkName(index)): pick another --subnet")
            }
            subnet = parsed
        } else {
            guard let free = Self.candidates(isDefault: isDefault).first(where: { candidate in
                !taken.contains { $0.1.overlaps(candidate) } && !routes.contains { $0.0.overlaps(candidate) }
            }) else {
                throw NetworkError(.conflict, "no free subnet is left among berth's defaults: give one with --subnet")
            }
            subnet = free
        }
        let gateway: IPv4Address
        if let gatewayText {
            guard let parsed = IPv4Address(gatewayText), subnet.isAssignable(parsed, excluding: subnet.network) else {
                throw NetworkError(.invalidArgument, "--gateway \(gatewayText) is not an address of the subnet \(subnet)")
            }
            gateway = parsed
        } else {
            gateway = subnet.firstHost
        }
        let id = Self.randomID()
        let definition = NetworkDefinition(
            name: name, id: id, driver: .bridge, subnet: subnet.description, gateway: gateway.description,
            bridge: isDefault ? defaultBridge : "br-" + id.prefix(12), mtu: 1500, created: created,
            labels: labels, isDefault: isDefault)
        try publish(definition, extra: [])
        return definition
    }

    /// Writes the network's directory under a hidden name and renames it into place: a network
    /// is there whole or not at all.
    func publish(_ definition: NetworkDefinition, extra: [(String, [UInt8])]) throws {
        let staging = directory + "/.creating-" + definition.id.prefix(16)
        do {
            try Directory.make(staging + "/leases", mode: 0o700)
            for (name, bytes) in extra {
                try AtomicFile.replace(staging + "/" + name, with: bytes, durable: false)
            }
        } catch {
            try? FileTree.remove(staging)
            throw NetworkError.system("cannot create the network's directory \(staging)", errno: error.errno)
        }
        do {
            try StoreFile.write(definition, to: staging + "/network.json")
            guard rename(staging, path(of: definition.name)) == 0 else {
                throw NetworkError.system("cannot create the network \(definition.name)")
            }
        } catch {
            try? FileTree.remove(staging)
            throw error
        }
    }

    /// Docker's choices: the default network on 172.17.0.0/16, others on the next /16s of
    /// 172.16.0.0/12, then /24s of 10.89.0.0/16.
    static func candidates(isDefault: Bool) -> [IPv4Subnet] {
        let sixteens = (17...31).map { IPv4Subnet(network: IPv4Address(bytes: (172, UInt8($0), 0, 0)), prefixLength: 16) }
        let twentyFours = (0...255).map { IPv4Subnet(network: IPv4Address(bytes: (10, 89, UInt8($0), 0)), prefixLength: 24) }
        return isDefault ? sixteens + twentyFours : Array(sixteens.dropFirst()) + twentyFours
    }

    /// "berth-" and 8 hex digits of the root's path (FNV-1a): at most 15 bytes, as a link name must be.
    static func bridgeName(forRoot root: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in root.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let digits = String(hash, radix: 16)
        return "berth-" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
        return Hex.encode(bytes)
    }
}
