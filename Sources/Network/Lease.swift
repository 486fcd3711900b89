import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// A container's address on a network, as `networks/<name>/leases/<address>`: made with link(2)
/// from a complete temporary file, so of two `run`s that pick the same address one gets it and
/// the other picks again, and a reader never sees half a lease. It lives while the container
/// runs; the next berth command removes the lease of a container whose supervisor is gone.
public struct Lease: Codable, Sendable, Equatable {
    public var container: String
    public var name: String
    public var aliases: [String]
    public var address: IPv4Address
    /// The host's end of the container's veth pair (bridge networks; on CNI networks the one the
    /// plugins name, for information).
    public var veth: String
    public var ports: [PortBinding]
    /// The container's /etc/hosts on the host: rewritten as others join and leave the network.
    public var hostsFile: String?
    /// The hostname the container's own entry in its /etc/hosts names.
    public var hostname: String
    /// The prefix length and gateway of the address, on CNI networks (the plugins' result says
    /// them); bridge networks' are the network's.
    public var prefixLength: Int?
    public var gateway: IPv4Address?
}

/// The leases of one network.
struct LeaseDirectory {
    let path: String

    func file(_ address: IPv4Address) -> String { path + "/" + address.description }

    func all() -> [Lease] {
        let names = (try? Directory.names(atPath: path)) ?? []
        return names.filter { IPv4Address($0) != nil }.compactMap { try? StoreFile.read(Lease.self, path + "/" + $0) }
    }

    /// Takes `lease.address`; false when another container holds it.
    func take(_ lease: Lease) throws -> Bool {
        let temporary = path + "/.new-" + lease.container.prefix(16)
        try StoreFile.write(lease, to: temporary, durable: false)
        defer { unlink(temporary) }
        if link(temporary, file(lease.address)) == 0 { return true }
        if errno == EEXIST { return false }
        throw NetworkError.system("cannot record the lease of \(lease.address) in \(path)")
    }

    func release(_ address: IPv4Address) {
        unlink(file(address))
    }
}
