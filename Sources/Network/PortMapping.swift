/// A transport protocol a port is published for.
public enum PortProtocol: String, Sendable, Codable, CaseIterable {
    case tcp, udp

    /// The IP protocol number (nftables' `meta l4proto`).
    var number: UInt8 { self == .tcp ? 6 : 17 }
}

/// One `-p` entry, or one port of a range, as asked: the host address, the host port (or a range
/// to pick from, or any free one) and the container's port.
public struct PortRequest: Sendable, Equatable, Codable {
    public var hostAddress: IPv4Address
    /// nil: any free port (`-p 80`, `-P`).
    public var hostPorts: ClosedRange<UInt16>?
    public var containerPort: UInt16
    public var proto: PortProtocol

    public init(hostAddress: IPv4Address = .any, hostPorts: ClosedRange<UInt16>?, containerPort: UInt16,
                proto: PortProtocol) {
        self.hostAddress = hostAddress
        self.hostPorts = hostPorts
        self.containerPort = containerPort
        self.proto = proto
    }

    /// `[IP:][HOSTPORT[-END]:]CONTAINERPORT[-END][/tcp|/udp]`, Docker's `-p`. A range on both
    /// sides must be as long on each; a host range with one container port picks one free port
    /// of the range.
    public static func parse(_ text: String) throws -> [PortRequest] {
        func bad(_ why: String) -> NetworkError {
            NetworkError(.invalidArgument, "invalid -p \"\(text)\": \(why); use [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], "
                         + "e.g. 8080:80 or 127.0.0.1:8080:80/udp")
        }
        var body = Substring(text)
        var proto = PortProtocol.tcp
        if let slash = body.lastIndex(of: "/") {
            let name = body[body.index(after: slash)...]
            guard let known = PortProtocol(rawValue: String(name)) else {
                throw bad(name == "sctp" ? "sctp is not supported (tcp and udp are)" : "unknown protocol \"\(name)\"")
            }
            proto = known
            body = body[..<slash]
        }
        if body.hasPrefix("[") { throw bad("IPv6 host addresses are not supported (berth's networks are IPv4)") }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count) else { throw bad("too many colons") }
        var address = IPv4Address.any
        if parts.count == 3 {
            guard let parsed = IPv4Address(parts[0]) else {
                throw bad(parts[0].contains(":") || parts[0].isEmpty ? "no host address" : "\"\(parts[0])\" is not an IPv4 address")
            }
            address = parsed
        }
        let containerText = parts[parts.count - 1]
        guard let container = range(containerText) else { throw bad("\"\(containerText)\" is not a port or range of ports 1-65535") }
        let hostText = parts.count >= 2 ? parts[parts.count - 2] : ""
        var host: ClosedRange<UInt16>?
        if !hostText.isEmpty {
            guard let parsed = range(hostText) else { throw bad("\"\(hostText)\" is not a port or range of ports 1-65535") }
            host = parsed
        }
        if container.count == 1 {
            return [PortRequest(hostAddress: address, hostPorts: host, containerPort: container.lowerBound, proto: proto)]
        }
        if let host, host.count != container.count {
            throw bad("the host range has \(host.count) ports and the container range \(container.count)")
        }
        return container.enumerated().map { offset, port in
            let hostPort = host.map { UInt16(Int($0.lowerBound) + offset) }
            return PortRequest(hostAddress: address, hostPorts: hostPort.map { $0...$0 }, containerPort: port, proto: proto)
        }
    }

    /// "80" or "8000-8010" (1-65535, ascending).
    public static func range(_ text: String) -> ClosedRange<UInt16>? {
        let ends = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(ends.count) else { return nil }
        let numbers = ends.map { end -> UInt16? in
            guard !end.isEmpty, end.count <= 5, end.allSatisfy({ $0 >= "0" && $0 <= "9" }), let n = UInt16(end), n > 0 else {
                return nil
            }
            return n
        }
        guard let low = numbers[0], let high = numbers[numbers.count - 1], low <= high else { return nil }
        return low...high
    }

    /// Docker's `80/tcp`.
    public var containerKey: String { "\(containerPort)/\(proto.rawValue)" }
}

/// A published port as it is in force: traffic to `hostAddress:hostPort` goes to the
/// container's `containerPort`.
public struct PortBinding: Sendable, Equatable, Codable, CustomStringConvertible {
    public var hostAddress: IPv4Address
    public var hostPort: UInt16
    public var containerPort: UInt16
    public var proto: PortProtocol

    public init(hostAddress: IPv4Address, hostPort: UInt16, containerPort: UInt16, proto: PortProtocol) {
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }

    /// `ps`'s `0.0.0.0:8080->80/tcp`.
    public var description: String { "\(hostAddress):\(hostPort)->\(containerPort)/\(proto.rawValue)" }

    /// Whether the two take the same host port: the same protocol and port, on the same address
    /// or one of them on every address.
    func collides(with other: PortBinding) -> Bool {
        proto == other.proto && hostPort == other.hostPort
            && (hostAddress == other.hostAddress || hostAddress == .any || other.hostAddress == .any)
    }
}

extension IPv4Address: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPv4Address(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IPv4 address: \(text)"))
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
