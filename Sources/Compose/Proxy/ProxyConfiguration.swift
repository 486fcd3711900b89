/// What HAProxy is to do, as data: one frontend per listen address, each in front of one
/// backend of fixed server slots. `text` is the haproxy.cfg berth writes; the deploy code only
/// ever changes the slots' addresses and states at run time, and writes the file again so a
/// restarted HAProxy starts where the running one was.
public struct ProxyConfiguration: Sendable, Equatable {
    /// The admin socket (`level admin`): the runtime API the deploy code drives.
    public var socketPath: String
    public var backends: [ProxyBackend]

    public init(socketPath: String, backends: [ProxyBackend]) {
        self.socketPath = socketPath
        self.backends = backends
    }

    /// haproxy.cfg. The timings are chosen for deploys: fast checks (a server is seen UP 2
    /// checks, 0.4 s, after it answers), retries of idempotent requests on another server, and
    /// HAProxy's keep-alive to clients longer than a load's gaps.
    public var text: String {
        var lines = [
            "# Written by berth: changes here are lost at the next deploy.",
            "global",
            "    stats socket \(socketPath) mode 600 level admin",
            "    stats timeout 30s",
            // Old workers of a reload finish their sessions, but not for ever.
            "    hard-stop-after 60s",
            "",
            "defaults",
            "    mode http",
            // Instances are on a local bridge: a connection not made in 500 ms is to a gone
            // instance (its address answers no ARP), and is retried on another at once.
            "    timeout connect 500ms",
            "    timeout client 60s",
            "    timeout server 60s",
            "    timeout queue 10s",
            "    timeout http-keep-alive 10s",
            "    timeout check 2s",
            // A request whose server refused the connection, closed it without an answer or
            // never answered goes to another server (L7 retries, only for idempotent methods:
            // see each backend's disable-l7-retry).
            "    retries 3",
            "    option redispatch 1",
            "    retry-on conn-failure empty-response response-timeout",
            "    default-server inter 200ms fastinter 200ms downinter 500ms fall 2 rise 2",
        ]
        for backend in backends {
            lines += ["", "frontend \(backend.name)_in", "    bind \(backend.listenAddress):\(backend.listenPort)",
                      "    default_backend \(backend.name)"]
            lines += ["", "backend \(backend.name)", "    balance roundrobin",
                      "    option httpchk GET \(backend.healthPath)",
                      // Every backup at once while the actives are moved, not only the first.
                      "    option allbackups",
                      "    http-request disable-l7-retry if !{ method GET HEAD OPTIONS }"]
            for server in backend.servers {
                lines.append("    " + server.line(port: backend.port))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// One proxied service in HAProxy: its frontend's listen address and its backend of slots.
public struct ProxyBackend: Sendable, Equatable {
    public var name: String
    public var listenAddress: String
    public var listenPort: Int
    public var healthPath: String
    /// The app's port inside its containers.
    public var port: Int
    public var servers: [ProxyServer]

    public init(name: String, listenAddress: String, listenPort: Int, healthPath: String, port: Int, servers: [ProxyServer]) {
        self.name = name
        self.listenAddress = listenAddress
        self.listenPort = listenPort
        self.healthPath = healthPath
        self.port = port
        self.servers = servers
    }
}

/// A fixed server slot (`a1`, `b1`): an instance's address, or none yet.
public struct ProxyServer: Sendable, Equatable {
    public var name: String
    public var backup: Bool
    public var address: String?

    public init(name: String, backup: Bool, address: String?) {
        self.name = name
        self.backup = backup
        self.address = address
    }

    /// An empty slot starts in maintenance (`disabled`) at a placeholder IPv4 address: HAProxy
    /// 2.6 changes a server's address at run time only within its address family, so a slot
    /// without one (`init-addr none` on a name) could never be given an instance.
    func line(port: Int) -> String {
        var words = ["server", name, "\(address ?? "127.0.0.1"):\(port)", "check"]
        if backup { words.append("backup") }
        if address == nil { words.append("disabled") }
        return words.joined(separator: " ")
    }
}
