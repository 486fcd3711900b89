import CNetlink
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A netlink socket in one network namespace: links, addresses and routes (rtnetlink), or
/// nf_tables map elements. Each call is one request and its answer.
final class Netlink: Sendable {
    let fd: Int32
    /// The namespace it speaks to, for messages ("the host", "the container").
    let place: String

    /// A route socket in the namespace `netnsFD` refers to (-1: berth's own).
    init(protocol family: Int32 = Int32(BERTH_NETLINK_ROUTE), netnsFD: Int32 = -1, place: String = "the host") throws {
        let rc = berth_netlink_open(family, netnsFD)
        if rc == -EPROTONOSUPPORT && family == Int32(BERTH_NETLINK_NETFILTER) {
            throw NetworkError(.unsupported, "this kernel has no nftables (nf_tables), which berth's bridge networks need: "
                               + "load its modules (modprobe nf_tables nft_nat nft_fib_inet nft_masq), or use --network none or host",
                               errno: -rc)
        }
        guard rc >= 0 else { throw NetworkError.system("cannot open a netlink socket in \(place)", errno: -rc) }
        fd = rc
        self.place = place
    }

    deinit { close(fd) }

    private func check(_ rc: Int32, _ what: @autoclosure () -> String) throws {
        if rc < 0 { throw NetworkError.system("cannot \(what()) in \(place)", errno: -rc) }
    }

    /// The index of the link `name`, or nil when there is none.
    func linkIndex(_ name: String) throws -> Int32? {
        let rc = berth_link_index(fd, name)
        if rc == -ENODEV { return nil }
        try check(rc, "look up the link \(name)")
        return rc
    }

    /// Creates a bridge with the hardware address `address` (6 bytes); false when one of that
    /// name was there already.
    func createBridge(_ name: String, mtu: UInt32, address: [UInt8]) throws -> Bool {
        let rc = address.withUnsafeBufferPointer { berth_bridge_create(fd, name, mtu, $0.baseAddress) }
        if rc == -EEXIST { return false }
        try check(rc, "create the bridge \(name)")
        return true
    }

    /// `peerAddress`: the peer's hardware address (6 bytes).
    func createVeth(_ hostName: String, peer: String, peerNamespace: Int32, mtu: UInt32, peerAddress: [UInt8]) throws {
        let rc = peerAddress.withUnsafeBufferPointer { berth_veth_create(fd, hostName, peer, peerNamespace, mtu, $0.baseAddress) }
        try check(rc, "create the veth pair \(hostName)")
    }

    func setLink(_ index: Int32, master: Int32 = 0, up: Bool, name: String) throws {
        try check(berth_link_set(fd, index, master, up ? 1 : 0), "set up the link \(name)")
    }

    /// Deletes the link; false when there was none.
    @discardableResult
    func deleteLink(_ name: String) throws -> Bool {
        let rc = berth_link_delete(fd, name)
        if rc == -ENODEV { return false }
        try check(rc, "delete the link \(name)")
        return true
    }

    /// Adds `address`/`prefixLength` to the link; an address that is there already is fine.
    func addAddress(_ address: IPv4Address, prefixLength: Int, to index: Int32, name: String) throws {
        let rc = address.bytes.withUnsafeBufferPointer { berth_address_add(fd, index, $0.baseAddress, Int32(prefixLength)) }
        if rc == -EEXIST { return }
        try check(rc, "give \(name) the address \(address)/\(prefixLength)")
    }

    func addDefaultRoute(via gateway: IPv4Address) throws {
        try check(gateway.bytes.withUnsafeBufferPointer { berth_route_add_default(fd, $0.baseAddress) },
                  "add the default route through \(gateway)")
    }

    /// The main table's IPv4 routes, each with the name of its interface where it has one.
    func routes() throws -> [(IPv4Subnet, Int32)] {
        var out = [berth_route](repeating: berth_route(), count: 1024)
        let rc = berth_routes(fd, &out, Int32(out.count))
        try check(rc, "list the routes")
        return out.prefix(Int(rc)).map {
            (IPv4Subnet(network: IPv4Address(bytes: $0.destination), prefixLength: Int($0.prefix_length)), $0.interface_index)
        }
    }

    static func linkName(_ index: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE))
        guard if_indextoname(UInt32(index), &buffer) != nil else { return "link \(index)" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether the nf_tables chain exists (inet family).
    func chainExists(table: String, chain: String) throws -> Bool {
        let rc = berth_nft_chain_exists(fd, UInt8(BERTH_NFPROTO_INET), table, chain)
        if rc == -ENOENT { return false }
        try check(rc, "look up the nftables chain \(table) \(chain)")
        return true
    }

    /// What `changeMap` does to the elements.
    enum MapChange {
        /// Adds them, all or none; a key that is there fails with EEXIST.
        case add
        /// Deletes them; a key that is not there fails with ENOENT.
        case delete
        /// Gives them the shortest timeout, after which they stop matching and the kernel frees
        /// them: unlike a deletion, nothing waits for an RCU grace period (see `withNetfilter`).
        case expire

        var code: Int32 {
            switch self {
            case .add: Int32(BERTH_NFT_ADD)
            case .delete: Int32(BERTH_NFT_DELETE)
            case .expire: Int32(BERTH_NFT_EXPIRE)
            }
        }
    }

    /// Changes map elements in one transaction: keys and data laid end to end.
    func changeMap(_ change: MapChange, table: String, map: String, keys: [UInt8], keyLength: Int, data: [UInt8],
                   dataLength: Int, count: Int) -> Int32 {
        keys.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                berth_nft_map_change(fd, change.code, UInt8(BERTH_NFPROTO_INET), table, map, k.baseAddress, Int32(keyLength),
                                     d.baseAddress, Int32(dataLength), Int32(count))
            }
        }
    }

    /// Whether the map's element for `key` has a timeout; nil when there is none (or it expired).
    func mapElementExpires(table: String, map: String, key: [UInt8]) throws -> Bool? {
        let rc = key.withUnsafeBufferPointer {
            berth_nft_map_element_expires(fd, UInt8(BERTH_NFPROTO_INET), table, map, $0.baseAddress, Int32(key.count))
        }
        if rc == -ENOENT { return nil }
        try check(rc, "look up an element of the nftables map \(table) \(map)")
        return rc == 1
    }

    /// Whether the nf_tables set or map exists (inet family).
    func setExists(table: String, set: String) throws -> Bool {
        let rc = berth_nft_set_exists(fd, UInt8(BERTH_NFPROTO_INET), table, set)
        if rc == -ENOENT { return false }
        try check(rc, "look up the nftables map \(table) \(set)")
        return true
    }
}

extension Netlink {
    /// The process's one nf_tables socket, opened at first use and closed only when the process
    /// ends. Closing a netfilter socket makes the kernel (its NETLINK_URELEASE handler) wait for
    /// nf_tables' deferred destruction of the namespace's last commit, an RCU grace period:
    /// 4-13 ms on this machine kind, which a socket per change paid once when a container's ports
    /// were published, before it started, and again at its end.
    static func withNetfilter<Result>(_ body: (Netlink) throws -> Result) throws -> Result {
        try sharedNetfilter.withLock { socket in
            let netfilter = try socket ?? Netlink(protocol: Int32(BERTH_NETLINK_NETFILTER))
            socket = netfilter
            return try body(netfilter)
        }
    }
}

private let sharedNetfilter = Mutex<Netlink?>(nil)
