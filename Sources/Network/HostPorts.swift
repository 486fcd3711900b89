#if canImport(Glibc)
import Glibc
#endif

/// Which host ports are free: not published by a container (the leases say) and not bound by a
/// process of the host (a bind(2) tried and undone says).
public struct HostPorts {
    /// Bindings of the containers that run now, on every network.
    let published: [PortBinding]

    /// The binding for `request`: its port, the first free one of its range, or any free port.
    func resolve(_ request: PortRequest, alsoTaken: [PortBinding]) throws -> PortBinding {
        let taken = published + alsoTaken
        func candidate(_ port: UInt16) -> PortBinding {
            PortBinding(hostAddress: request.hostAddress, hostPort: port, containerPort: request.containerPort, proto: request.proto)
        }
        if let range = request.hostPorts {
            var lastError: NetworkError?
            for port in range.prefix(4096) {
                let binding = candidate(port)
                if let holder = taken.first(where: { $0.collides(with: binding) }) {
                    lastError = NetworkError(.conflict, "host port \(request.hostAddress):\(port)/\(request.proto.rawValue) is "
                                             + "already published (\(holder)): pick another with -p HOSTPORT:\(request.containerPort)")
                    continue
                }
                do {
                    try Self.checkBindable(binding)
                    return binding
                } catch let error as NetworkError {
                    lastError = error
                }
            }
            throw lastError ?? NetworkError(.conflict, "no free host port in \(range)")
        }
        // Any free port: the kernel's pick of an ephemeral one, unless a container has it.
        for _ in 0..<64 {
            let port = try Self.ephemeralPort(request)
            let binding = candidate(port)
            if !taken.contains(where: { $0.collides(with: binding) }) { return binding }
        }
        throw NetworkError(.conflict, "no free host port found for \(request.containerKey)")
    }

    /// Fails when a host process has the port (or the address is not the host's).
    public static func checkBindable(_ binding: PortBinding) throws {
        let fd = try socket(for: binding.proto)
        defer { close(fd) }
        guard bind(fd, binding.hostAddress, port: binding.hostPort) == 0 else {
            let e = errno
            if e == EADDRINUSE {
                throw NetworkError(.conflict, "host port \(binding.hostAddress):\(binding.hostPort)/\(binding.proto.rawValue) "
                                   + "is already in use on the host: pick another with -p HOSTPORT:\(binding.containerPort)",
                                   errno: e)
            }
            if e == EADDRNOTAVAIL {
                throw NetworkError(.invalidArgument, "\(binding.hostAddress) is not an address of this host: "
                                   + "publish on one of its addresses (or 0.0.0.0)", errno: e)
            }
            throw NetworkError.system("cannot check host port \(binding.hostPort)", errno: e)
        }
    }

    private static func ephemeralPort(_ request: PortRequest) throws -> UInt16 {
        let fd = try socket(for: request.proto)
        defer { close(fd) }
        guard bind(fd, request.hostAddress, port: 0) == 0 else {
            throw NetworkError.system("cannot find a free host port for \(request.containerKey)")
        }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { throw NetworkError.system("cannot find a free host port for \(request.containerKey)") }
        return UInt16(bigEndian: address.sin_port)
    }

    private static func socket(for proto: PortProtocol) throws -> Int32 {
        let kind = proto == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        let fd = Glibc.socket(AF_INET, kind | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NetworkError.system("cannot open a socket to check a host port") }
        // A server started on the port later would set it too: TIME_WAIT leftovers do not count.
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    private static func bind(_ fd: Int32, _ host: IPv4Address, port: UInt16) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = host.value.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}
