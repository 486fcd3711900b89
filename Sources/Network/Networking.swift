import CNetlink
import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// What a container asks of the network it joins.
public struct Endpoint: Sendable {
    public var container: String
    public var name: String
    public var hostname: String
    public var aliases: [String] = []
    /// `--ip`; nil: the first free address.
    public var address: IPv4Address?
    public var ports: [PortRequest] = []
    /// Where the container's /etc/hosts, /etc/resolv.conf and /etc/hostname are written (its
    /// directory); the caller bind-mounts them.
    public var filesDirectory: String

    public init(container: String, name: String, hostname: String, filesDirectory: String) {
        self.container = container
        self.name = name
        self.hostname = hostname
        self.filesDirectory = filesDirectory
    }
}

/// A container on a network, as inspect's NetworkSettings shows it.
public struct Attachment: Sendable, Codable, Equatable {
    public var network: String
    public var networkID: String
    public var address: IPv4Address
    public var prefixLength: Int
    public var gateway: IPv4Address
    public var veth: String
    public var ports: [PortBinding]
    public var aliases: [String]
}

/// Containers onto networks and off them again: the bridge (made when first needed), the veth
/// pair, the address, the routes, the published ports and the names.
public struct Networking: Sendable {
    public let store: NetworkStore

    public init(store: NetworkStore) { self.store = store }

    /// The file names `Endpoint.filesDirectory` gets, and where they go in the container.
    public static let files = [("hosts", "/etc/hosts"), ("resolv.conf", "/etc/resolv.conf"), ("hostname", "/etc/hostname")]

    /// The host end of a container's veth pair: "vb" and the first 12 digits of its id.
    public static func vethName(_ container: String) -> String { "vb" + container.prefix(12) }

    /// Writes the container's name files before it starts (the caller bind-mounts them): the
    /// address comes with `attach`, which rewrites /etc/hosts.
    public static func prepareFiles(_ endpoint: Endpoint) throws {
        try NameFiles.write(endpoint.filesDirectory + "/hosts", NameFiles.localhostLines)
        try NameFiles.write(endpoint.filesDirectory + "/resolv.conf", NameFiles.resolvConf(from: NameFiles.hostResolvConf()))
        try NameFiles.write(endpoint.filesDirectory + "/hostname", endpoint.hostname + "\n")
    }

    /// Writes the name files of a container on the host's network (`--network host`, a build's
    /// `RUN` with it) in `directory`: the host's own /etc/hosts and /etc/resolv.conf as they are
    /// (a resolver on loopback answers there: the network is the host's), as Docker gives them,
    /// so that an image whose own files are empty (a debootstrap root) still resolves names.
    public static func prepareHostFiles(directory: String, hostname: String) throws {
        try NameFiles.write(directory + "/hosts", NameFiles.hostFile("/etc/hosts") ?? NameFiles.localhostLines)
        try NameFiles.write(directory + "/resolv.conf", NameFiles.hostResolvConf())
        try NameFiles.write(directory + "/hostname", hostname + "\n")
    }

    /// Puts the process `pid`'s network namespace on `network`: called between the container's
    /// clone and its release, so its command starts with eth0 up. Undone whole when it fails.
    public func attach(_ endpoint: Endpoint, to network: NetworkDefinition, pid: pid_t) throws -> Attachment {
        if network.driver == .cni { return try attachCNI(endpoint, to: network, pid: pid) }
        guard network.driver == .bridge, let (subnet, gateway) = network.addressing else {
            throw NetworkError(.unsupported, "network \(network.name) has no bridge to attach to")
        }
        let netns = open("/proc/\(pid)/ns/net", O_RDONLY | O_CLOEXEC)
        guard netns >= 0 else { throw NetworkError.system("cannot open the container's network namespace") }
        defer { close(netns) }
        let host = try Netlink()
        let leases = LeaseDirectory(path: store.path(of: network.name) + "/leases")
        return try FileLock.withLock(store.path(of: network.name) + "/.lock") {
            let bridge = try ensureBridge(network, subnet: subnet, gateway: gateway, netlink: host)
            if try !Netlink.withNetfilter({ Firewall.isInstalled(network, netfilter: $0) }) {
                try rewriteFirewall()
            }
            var lease = Lease(container: endpoint.container, name: endpoint.name, aliases: endpoint.aliases, address: .any,
                              veth: Self.vethName(endpoint.container), ports: [],
                              hostsFile: endpoint.filesDirectory + "/hosts", hostname: endpoint.hostname)
            // Ports are picked and the lease taken under one lock of the whole store, so two
            // containers on different networks cannot take one host port.
            try FileLock.withLock(portsLockPath) {
                lease.ports = try resolvePorts(endpoint.ports)
                lease.address = try take(&lease, requested: endpoint.address, subnet: subnet, gateway: gateway, leases: leases)
            }
            do {
                try connect(lease, bridge: bridge, netns: netns, prefixLength: subnet.prefixLength, gateway: gateway,
                            mtu: UInt32(network.mtu), host: host)
                try Netlink.withNetfilter { try Firewall.publish(lease.ports, to: lease.address, netfilter: $0) }
                updateNames(leases, network: network, joining: endpoint.container)
            } catch {
                _ = try? host.deleteLink(lease.veth)
                leases.release(lease.address)
                throw error
            }
            return Attachment(network: network.name, networkID: network.id, address: lease.address,
                              prefixLength: subnet.prefixLength, gateway: gateway, veth: lease.veth, ports: lease.ports,
                              aliases: lease.aliases)
        }
    }

    /// Takes the network off the container, which has ended: its ports, its lease, its name in
    /// the others' /etc/hosts. Its veth pair goes with its network namespace (see `remove`).
    /// What is already gone is skipped.
    public func detach(container: String, from network: NetworkDefinition) throws {
        if network.driver == .cni { return try detachCNI(container: container, from: network) }
        let leases = LeaseDirectory(path: store.path(of: network.name) + "/leases")
        try FileLock.withLock(store.path(of: network.name) + "/.lock") {
            for lease in leases.all() where lease.container == container {
                try remove(lease, leases: leases, deletingVeth: false)
            }
            updateNames(leases, network: network, joining: nil)
        }
    }

    /// Removes the leases (ports, veths) of containers whose supervisor is gone: what a berth or
    /// monitor killed by SIGKILL left.
    public func reconcile(isRunning: (String) -> Bool) {
        let names = (try? Directory.names(atPath: store.directory)) ?? []
        for name in names where !name.hasPrefix(".") {
            let leases = LeaseDirectory(path: store.path(of: name) + "/leases")
            let stale = leases.all().filter { !isRunning($0.container) }
            let staleCNI = CNICache.containers(in: store.path(of: name)).filter { !isRunning($0) }
            guard !stale.isEmpty || !staleCNI.isEmpty, let network = try? store.find(name) else { continue }
            if network.driver == .cni {
                reconcileCNI(network, isRunning: isRunning)
                continue
            }
            try? FileLock.withLock(store.path(of: name) + "/.lock") {
                // Looked at again under the lock: the container may have started meanwhile.
                for lease in leases.all() where !isRunning(lease.container) {
                    try? remove(lease, leases: leases, deletingVeth: true)
                }
                updateNames(leases, network: network, joining: nil)
            }
        }
    }

    /// The containers on `network` now.
    public func members(of network: NetworkDefinition) -> [Lease] {
        LeaseDirectory(path: store.path(of: network.name) + "/leases").all()
    }

    /// Deletes berth's nftables table and writes it again for the networks there are. The
    /// default network is made first, outside the store's lock: `list` makes it when it is
    /// missing, under that same lock, and a second flock of one file by one process (another
    /// open file) waits for the first for ever.
    public func rewriteFirewall(removing removed: [NetworkDefinition] = []) throws {
        _ = try store.defaultNetwork()
        try FileLock.withLock(store.lockPath) { try Firewall.install(try store.list(), removing: removed) }
    }

    /// Removes a network's bridge from the host (when the network itself is removed).
    public func removeBridge(of network: NetworkDefinition) throws {
        guard network.driver == .bridge else { return }
        try Netlink().deleteLink(network.bridge)
    }

    // MARK: steps

    /// Held while host ports are picked and recorded, across every network.
    var portsLockPath: String { store.directory + "/.ports.lock" }

    /// The bindings for `requests`: their ports, or free ones (call it holding `portsLockPath`).
    func resolvePorts(_ requests: [PortRequest]) throws -> [PortBinding] {
        guard !requests.isEmpty else { return [] }
        let hostPorts = HostPorts(published: allLeases().flatMap(\.ports))
        var bindings: [PortBinding] = []
        for request in requests { bindings.append(try hostPorts.resolve(request, alsoTaken: bindings)) }
        return bindings
    }

    private func allLeases() -> [Lease] {
        let names = (try? Directory.names(atPath: store.directory)) ?? []
        return names.filter { !$0.hasPrefix(".") }.flatMap { LeaseDirectory(path: store.path(of: $0) + "/leases").all() }
    }

    /// `deletingVeth`: false at a container's end, when its network namespace is going away
    /// with its last process and the kernel destroys the veth pair with it, in a worker of its
    /// own. Deleting it here would wait for that unregistration's RCU grace periods: 17-27 ms
    /// per container on this machine kind (`ip link del` of a veth, measured), which was most of
    /// what the bridge added to `run --rm`. A start of the same container deletes a leftover
    /// of that name first (`connect`).
    private func remove(_ lease: Lease, leases: LeaseDirectory, deletingVeth: Bool) throws {
        if !lease.ports.isEmpty { try Netlink.withNetfilter { try Firewall.unpublish(lease.ports, from: lease.address, netfilter: $0) } }
        if deletingVeth { _ = try? Netlink().deleteLink(lease.veth) }
        leases.release(lease.address)
    }

    private func take(_ lease: inout Lease, requested: IPv4Address?, subnet: IPv4Subnet, gateway: IPv4Address,
                      leases: LeaseDirectory) throws -> IPv4Address {
        if let requested {
            guard subnet.isAssignable(requested, excluding: gateway) else {
                throw NetworkError(.invalidArgument, "--ip \(requested) is not a free address of the network's subnet \(subnet)")
            }
            lease.address = requested
            guard try leases.take(lease) else {
                throw NetworkError(.conflict, "address \(requested) is already in use on the network: pick another --ip")
            }
            return requested
        }
        // The lowest free address: what the directory shows, then link(2) settles any race.
        let used = Set(leases.all().map(\.address))
        var candidate = subnet.firstHost.value
        let last = subnet.broadcast.value
        var tries = 0
        while candidate < last && tries < 1 << 16 {
            let address = IPv4Address(candidate)
            candidate += 1
            guard address != gateway, !used.contains(address) else { continue }
            tries += 1
            lease.address = address
            if try leases.take(lease) { return address }
        }
        throw NetworkError(.conflict, "no free address is left in the network's subnet \(subnet)")
    }

    /// The bridge, its address and the host's forwarding: made if missing, left as they are if there.
    private func ensureBridge(_ network: NetworkDefinition, subnet: IPv4Subnet, gateway: IPv4Address,
                              netlink: Netlink) throws -> Int32 {
        if let index = try netlink.linkIndex(network.bridge) { return index }
        // A bridge without an address of its own takes the lowest of its ports', so it changed
        // whenever that container came or went (a deploy's every cycle); each change flushes the
        // host's neighbour entries for every member, and members keep sending to the address
        // that is gone until the host asks them again: the serving instances stalled meanwhile,
        // a lost reply costing a 200 ms retransmission (issue 15's p99 during a deploy).
        _ = try netlink.createBridge(network.bridge, mtu: UInt32(network.mtu), address: Self.hardwareAddress(of: gateway))
        guard let index = try netlink.linkIndex(network.bridge) else {
            throw NetworkError(.systemError, "the bridge \(network.bridge) vanished as it was made")
        }
        try netlink.addAddress(gateway, prefixLength: subnet.prefixLength, to: index, name: network.bridge)
        try netlink.setLink(index, up: true, name: network.bridge)
        // Routing between the bridge and the host's other links, and DNAT of 127.0.0.1 to a
        // container (the host's own `curl 127.0.0.1:8080`).
        try Self.writeSysctl("/proc/sys/net/ipv4/ip_forward", "1")
        try Self.writeSysctl("/proc/sys/net/ipv4/conf/\(network.bridge)/route_localnet", "1")
        return index
    }

    private static func writeSysctl(_ path: String, _ value: String) throws {
        if let current = try? FileIO.readFile(path), String(decoding: current, as: UTF8.self).hasPrefix(value) { return }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NetworkError.system("cannot open \(path)") }
        defer { close(fd) }
        do {
            try FileIO.writeAll(fd, Array(value.utf8), path: path)
        } catch {
            throw NetworkError.system("cannot write \(value) to \(path)", errno: error.errno)
        }
    }

    /// The veth pair (eth0 inside), its address, the default route; lo is the child's own.
    private func connect(_ lease: Lease, bridge: Int32, netns: Int32, prefixLength: Int, gateway: IPv4Address, mtu: UInt32,
                         host: Netlink) throws {
        _ = try? host.deleteLink(lease.veth)   // a leftover of an earlier start of this container
        try host.createVeth(lease.veth, peer: "eth0", peerNamespace: netns, mtu: mtu,
                            peerAddress: Self.hardwareAddress(of: lease.address))
        guard let hostEnd = try host.linkIndex(lease.veth) else {
            throw NetworkError(.systemError, "the veth \(lease.veth) vanished as it was made")
        }
        try host.setLink(hostEnd, master: bridge, up: true, name: lease.veth)
        let inside = try Netlink(netnsFD: netns, place: "the container")
        guard let eth0 = try inside.linkIndex("eth0") else {
            throw NetworkError(.systemError, "the container's eth0 is missing after it was made")
        }
        try inside.addAddress(lease.address, prefixLength: prefixLength, to: eth0, name: "eth0")
        try inside.setLink(eth0, up: true, name: "eth0")
        try inside.addDefaultRoute(via: gateway)
    }

    /// Docker's rule, 02:42 then the IPv4 address, for a container's eth0 and a bridge alike: an
    /// address given again (a deploy's new instance, moments after the old one's end) comes with
    /// the same hardware address, so the host's and the other members' neighbour entries for it
    /// stay true. A random one left them pointing at the gone container for seconds (until the
    /// entry's probes fail).
    static func hardwareAddress(of address: IPv4Address) -> [UInt8] {
        let v = address.value
        return [0x02, 0x42, UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
    }

    /// The members' /etc/hosts: on the default network only the joining container's (it names
    /// only itself), on others everyone's.
    func updateNames(_ leases: LeaseDirectory, network: NetworkDefinition, joining: String?) {
        let members = leases.all()
        for lease in members where !network.isDefault || lease.container == joining {
            guard let file = lease.hostsFile else { continue }
            NameFiles.rewrite(file, with: NameFiles.hosts(for: lease, peers: network.isDefault ? [] : members))
        }
    }
}
