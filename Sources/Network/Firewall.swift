#if canImport(Glibc)
import Glibc
#endif

/// berth's nftables table, `inet berth`: the only rules berth makes, so it never rewrites rules
/// it did not create, and deleting the table leaves the host as it was.
///
/// The table's shape (chains, the masquerade and isolation rules of each bridge network, the
/// published-port maps) goes through libnftables' own front end, `nft -f -`, when a network is
/// first used in a network namespace or the set of networks changes. Published ports are
/// elements of two maps, added and expired per container by one netfilter message each: `nft`
/// costs 2-3 ms a run (its libraries loaded, its cache filled), the message 0.05 ms.
struct Firewall {
    static let table = "berth"
    /// proto . port → container address . port, for ports published on every host address.
    static let publishedMap = "ports"
    /// address . proto . port → container address . port, for ports published on one address.
    static let publishedOnMap = "ports_on"
    /// The maps of berth before its elements could expire (without `flags timeout`), replaced
    /// by the two above when berth's table is next written.
    static let earlierMaps = ["published", "published_on"]

    /// The chain that holds one network's masquerade rules; its presence says they are in force.
    static func chain(of network: NetworkDefinition) -> String { "net_" + network.bridge.replacingDashes }

    /// The chain that keeps other networks from reaching this one.
    static func forwardChain(of network: NetworkDefinition) -> String { "fwd_" + network.bridge.replacingDashes }

    /// Whether `network`'s rules, and the published-port maps of this berth, are in force in
    /// this network namespace.
    static func isInstalled(_ network: NetworkDefinition, netfilter: Netlink) -> Bool {
        ((try? netfilter.chainExists(table: table, chain: chain(of: network))) ?? false)
            && ((try? netfilter.setExists(table: table, set: publishedMap)) ?? false)
    }

    /// Writes the table for `networks` (see `script`).
    static func install(_ networks: [NetworkDefinition], removing removed: [NetworkDefinition] = []) throws {
        let earlier = try Netlink.withNetfilter { netfilter in
            earlierMaps.filter { (try? netfilter.setExists(table: table, set: $0)) ?? false }
        }
        try apply(script(for: networks, removing: removed, earlierMaps: earlier))
    }

    /// The table for `networks` in one transaction. The published-port maps are kept (their
    /// elements are containers' ports); the chains every state root shares are written again
    /// with the same rules; each network's chains are hooked in on their own, so writing them
    /// never touches the chains of another state root's networks on the same host.
    /// `earlierMaps`: those of `Firewall.earlierMaps` that exist, to delete.
    static func script(for networks: [NetworkDefinition], removing removed: [NetworkDefinition] = [],
                       earlierMaps earlier: [String] = []) -> String {
        var s = """
            add table inet berth
            add map inet berth ports { type inet_proto . inet_service : ipv4_addr . inet_service ; flags timeout ; }
            add map inet berth ports_on { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service ; flags timeout ; }
            add chain inet berth published_dnat
            flush chain inet berth published_dnat
            add rule inet berth published_dnat dnat ip to ip daddr . meta l4proto . th dport map @ports_on
            add rule inet berth published_dnat dnat ip to meta l4proto . th dport map @ports
            add chain inet berth prerouting { type nat hook prerouting priority dstnat ; policy accept ; }
            flush chain inet berth prerouting
            add rule inet berth prerouting fib daddr type local jump published_dnat
            add chain inet berth output { type nat hook output priority -100 ; policy accept ; }
            flush chain inet berth output
            add rule inet berth output fib daddr type local jump published_dnat

            """
        let bridges = networks.filter { $0.driver == .bridge }
        for network in bridges {
            let chain = chain(of: network), forward = forwardChain(of: network)
            let device = "\"\(network.bridge)\""
            s += """
                add chain inet berth \(chain) { type nat hook postrouting priority srcnat ; policy accept ; }
                flush chain inet berth \(chain)
                add rule inet berth \(chain) ip saddr \(network.subnet) oifname != \(device) masquerade
                add rule inet berth \(chain) oifname \(device) ip saddr 127.0.0.0/8 masquerade
                add rule inet berth \(chain) oifname \(device) ip saddr \(network.subnet) ct status dnat masquerade
                add chain inet berth \(forward) { type filter hook forward priority filter ; policy accept ; }
                flush chain inet berth \(forward)

                """
            // Networks do not reach each other, as Docker's.
            for other in bridges where other.bridge != network.bridge {
                s += "add rule inet berth \(forward) iifname \(device) oifname \"\(other.bridge)\" drop\n"
            }
        }
        for network in removed where network.driver == .bridge {
            for chain in [chain(of: network), forwardChain(of: network)] {
                s += "add chain inet berth \(chain)\ndelete chain inet berth \(chain)\n"
            }
        }
        // After the flush above, no rule refers to them any more.
        for map in earlier { s += "delete map inet berth \(map)\n" }
        return s
    }

    /// Applies a script with `nft -f -`.
    static func apply(_ script: String) throws {
        let places: [String] = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
        guard let nft = places.first(where: { access($0, X_OK) == 0 }) else {
            throw NetworkError(.unsupported, "nft (Debian's nftables package) is not installed: berth's networks need it "
                               + "(apt-get install nftables), or use --network none or host")
        }
        let result = try Subprocess.run(nft, ["-f", "-"], input: Array(script.utf8))
        guard result.status == 0 else {
            throw NetworkError(.systemError, "cannot write berth's nftables table (nft -f): \(result.errorText)")
        }
    }

    // MARK: published ports

    /// Adds the bindings' map elements, all or none. A host port another container has taken
    /// fails with EEXIST; one whose element is expiring (a container that has just ended) is
    /// free again within a jiffy or two, so that is waited for.
    static func publish(_ bindings: [PortBinding], to address: IPv4Address, netfilter: Netlink) throws {
        var added: [PortBinding] = []
        for (map, group) in grouped(bindings) {
            let (keys, keyLength) = keys(group, map: map)
            var data: [UInt8] = []
            for binding in group { data += address.bytes + port(binding.containerPort) }
            var rc = netfilter.changeMap(.add, table: table, map: map, keys: keys, keyLength: keyLength,
                                         data: data, dataLength: 8, count: group.count)
            for _ in 0..<10 where rc == -EEXIST && group.allSatisfy({ isExpiring($0, map: map, netfilter: netfilter) }) {
                usleep(2_000)
                rc = netfilter.changeMap(.add, table: table, map: map, keys: keys, keyLength: keyLength,
                                         data: data, dataLength: 8, count: group.count)
            }
            if rc == -EEXIST {
                try? unpublish(added, from: address, netfilter: netfilter)
                throw NetworkError(.conflict, "a published port of \(group.map(\.description).joined(separator: ", ")) "
                                   + "is taken by another container: pick another host port")
            }
            if rc < 0 {
                try? unpublish(added, from: address, netfilter: netfilter)
                throw NetworkError.system("cannot publish ports in berth's nftables map \(map)", errno: -rc)
            }
            added += group
        }
    }

    /// Takes the bindings' map elements out of use: each is expired, or deleted where the kernel
    /// cannot update an element's timeout. Elements already gone, or that map the port to
    /// another container's address, are left alone.
    static func unpublish(_ bindings: [PortBinding], from address: IPv4Address, netfilter: Netlink) throws {
        for (map, group) in grouped(bindings) {
            // One at a time: a batch stops at the first element that is not there.
            for binding in group {
                let (key, keyLength) = keys([binding], map: map)
                let data = address.bytes + port(binding.containerPort)
                let rc = netfilter.changeMap(.expire, table: table, map: map, keys: key, keyLength: keyLength,
                                             data: data, dataLength: 8, count: 1)
                // EEXIST: the port maps to another container now.
                if rc == -EEXIST { continue }
                if rc == 0, elementIsGoing(key, map: map, netfilter: netfilter) { continue }
                // A kernel that cannot update an element's timeout (an older one) left
                // it as it was, or refused the timeout.
                let deleted = netfilter.changeMap(.delete, table: table, map: map, keys: key, keyLength: keyLength,
                                                  data: [], dataLength: 0, count: 1)
                if deleted < 0 && deleted != -ENOENT {
                    throw NetworkError.system("cannot remove the published port \(binding)", errno: -deleted)
                }
            }
        }
    }

    private static func isExpiring(_ binding: PortBinding, map: String, netfilter: Netlink) -> Bool {
        elementIsGoing(keys([binding], map: map).0, map: map, netfilter: netfilter)
    }

    /// Whether the element for `key` is expiring or gone; false when it stays, or the lookup
    /// failed (the caller then deletes it, or reports the port taken).
    private static func elementIsGoing(_ key: [UInt8], map: String, netfilter: Netlink) -> Bool {
        do {
            return try netfilter.mapElementExpires(table: table, map: map, key: key) != false
        } catch {
            return false
        }
    }

    private static func grouped(_ bindings: [PortBinding]) -> [(String, [PortBinding])] {
        let any = bindings.filter { $0.hostAddress == .any }
        let on = bindings.filter { $0.hostAddress != .any }
        return [(publishedMap, any), (publishedOnMap, on)].filter { !$0.1.isEmpty }
    }

    /// nftables lays each field of a concatenation in a whole number of 32-bit registers.
    private static func keys(_ bindings: [PortBinding], map: String) -> ([UInt8], Int) {
        var keys: [UInt8] = []
        for binding in bindings {
            if map == publishedOnMap { keys += binding.hostAddress.bytes }
            keys += [binding.proto.number, 0, 0, 0] + port(binding.hostPort)
        }
        return (keys, map == publishedOnMap ? 12 : 8)
    }

    private static func port(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff), 0, 0] }
}

extension String {
    /// nftables chain names are identifiers: '-' becomes '_'.
    var replacingDashes: String { String(map { $0 == "-" ? "_" : $0 }) }
}
