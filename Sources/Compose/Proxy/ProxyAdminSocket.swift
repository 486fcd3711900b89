#if canImport(Glibc)
import Glibc
#endif

/// HAProxy's runtime API over its admin socket: one connection per command (the
/// non-interactive mode: HAProxy answers and closes), every answer checked, so a refused
/// command is an error and never a silent no-op in the middle of a deploy.
public struct ProxyAdminSocket: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// A server's administrative state, as `set server B/S state` takes it.
    public enum AdminState: String, Sendable {
        /// In load balancing.
        case ready
        /// Out of load balancing, still checked; its sessions finish.
        case drain
        /// No traffic, no checks; idle connections to it are closed.
        case maint
    }

    /// Sends one command and returns HAProxy's whole answer.
    public func send(_ command: String) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProxyError.system("cannot open a socket for HAProxy's admin socket") }
        defer { close(fd) }
        // A wedged HAProxy must not hang a deploy: 5 s for any answer.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ProxyError(.invalidArgument, "HAProxy's admin socket path \(path) is too long for a unix socket: "
                             + "use a shorter state root")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            throw ProxyError.system("cannot reach HAProxy's admin socket \(path): is HAProxy running?")
        }
        let line = Array((command + "\n").utf8)
        var sent = 0
        while sent < line.count {
            let n = line[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw ProxyError.system("cannot send \"\(command)\" to HAProxy") }
            sent += n
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw ProxyError.system("no answer from HAProxy to \"\(command)\"") }
            if n == 0 { break }
            answer += buffer[0..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// A command whose success is an empty answer (HAProxy says only what went wrong).
    func expectingSilence(_ command: String) throws {
        let answer = try send(command).trimmed
        guard answer.isEmpty else { throw ProxyError(.systemError, "HAProxy refused \"\(command)\": \(answer)") }
    }

    public func setState(backend: String, server: String, _ state: AdminState) throws {
        try expectingSilence("set server \(backend)/\(server) state \(state.rawValue)")
    }

    /// Points the server at a new address (which also drops its idle connections).
    public func setAddress(backend: String, server: String, address: String, port: Int) throws {
        let command = "set server \(backend)/\(server) addr \(address) port \(port)"
        let answer = try send(command).trimmed
        // Its success is a sentence too: "IP changed from ...", "no need to change the addr, port changed ...".
        guard answer.isEmpty || answer.contains("changed from") || answer.hasPrefix("no need to change") else {
            throw ProxyError(.systemError, "HAProxy refused \"\(command)\": \(answer)")
        }
    }

    /// Marks the server's health down at once: from there HAProxy's own checks must pass
    /// `rise` times before it is UP, so a server coming back is seen healthy by fresh checks
    /// and never by the state it had before its maintenance.
    public func forceHealthDown(backend: String, server: String) throws {
        try expectingSilence("set server \(backend)/\(server) health down")
    }

    public func enableHealth(backend: String, server: String) throws {
        try expectingSilence("enable health \(backend)/\(server)")
    }

    public func disableHealth(backend: String, server: String) throws {
        try expectingSilence("disable health \(backend)/\(server)")
    }

    /// `show stat`: every proxy's and server's counters, by column name.
    public func stats() throws -> [ProxyStat] {
        try ProxyStat.parse(csv: send("show stat"))
    }

    /// The stats of one server.
    public func stat(backend: String, server: String) throws -> ProxyStat {
        guard let stat = try stats().first(where: { $0.proxy == backend && $0.server == server }) else {
            throw ProxyError(.notFound, "HAProxy has no server \(backend)/\(server): its configuration is not berth's latest")
        }
        return stat
    }

    /// `show servers state BACKEND`: each server's address and states, by column name.
    public func serversState(backend: String) throws -> [[String: String]] {
        let lines = try send("show servers state \(backend)").split(separator: "\n").map(String.init)
        guard let header = lines.first(where: { $0.hasPrefix("# ") }) else {
            throw ProxyError(.systemError, "HAProxy's \"show servers state \(backend)\" answered no header: \(lines.prefix(2))")
        }
        let names = header.dropFirst(2).split(separator: " ").map(String.init)
        return lines.filter { !$0.hasPrefix("#") && $0.contains(" ") }.map { line in
            let fields = line.split(separator: " ").map(String.init)
            var row: [String: String] = [:]
            for (name, value) in zip(names, fields) { row[name] = value }
            return row
        }
    }
}

extension String {
    var trimmed: String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        return String(text)
    }
}
