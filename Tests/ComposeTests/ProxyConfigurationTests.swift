import Testing
@testable import Compose

@Suite("ProxyConfiguration")
struct ProxyConfigurationTests {
    static let configuration = ProxyConfiguration(socketPath: "/state/compose/demo/haproxy.sock", backends: [
        ProxyBackend(name: "web", listenAddress: "127.0.0.1", listenPort: 8080, healthPath: "/up", port: 3000, servers: [
            ProxyServer(name: "a1", backup: false, address: "172.18.0.2"),
            ProxyServer(name: "a2", backup: false, address: nil),
            ProxyServer(name: "b1", backup: true, address: "172.18.0.4"),
        ]),
    ])

    @Test("a frontend per listen address, a backend of fixed slots, an admin socket")
    func layout() {
        let lines = Self.configuration.text.split(separator: "\n").map { $0.trimmingCharacters() }
        #expect(lines.contains("stats socket /state/compose/demo/haproxy.sock mode 600 level admin"))
        #expect(lines.contains("frontend web_in"))
        #expect(lines.contains("bind 127.0.0.1:8080"))
        #expect(lines.contains("default_backend web"))
        #expect(lines.contains("option httpchk GET /up"))
        #expect(lines.contains("option allbackups"))
        #expect(lines.contains("server a1 172.18.0.2:3000 check"))
        #expect(lines.contains("server b1 172.18.0.4:3000 check backup"))
    }

    @Test("an empty slot starts in maintenance with an IPv4 placeholder, so set server addr can fill it")
    func emptySlot() {
        #expect(Self.configuration.text.contains("    server a2 127.0.0.1:3000 check disabled\n"))
    }

    @Test("idempotent requests are retried on another server; other methods never at layer 7")
    func retries() {
        let text = Self.configuration.text
        #expect(text.contains("retries 3\n"))
        #expect(text.contains("option redispatch 1\n"))
        #expect(text.contains("retry-on conn-failure empty-response response-timeout\n"))
        #expect(text.contains("http-request disable-l7-retry if !{ method GET HEAD OPTIONS }\n"))
    }
}

@Suite("ProxyStat")
struct ProxyStatTests {
    @Test("show stat's CSV is read by column name, whatever the order")
    func byName() throws {
        let csv = """
            # pxname,svname,qcur,qmax,scur,smax,status,addr,
            web_in,FRONTEND,,,3,9,OPEN,,
            web,a1,0,0,2,5,DRAIN,172.18.0.2:3000,
            web,b1,1,1,0,3,UP 1/2,172.18.0.4:3000,

            """
        let rows = try ProxyStat.parse(csv: csv)
        #expect(rows.count == 3)
        let a1 = try #require(rows.first { $0.proxy == "web" && $0.server == "a1" })
        #expect(a1.sessions == 2 && a1.queued == 0 && a1.status == "DRAIN" && a1.address == "172.18.0.2:3000")
        let b1 = try #require(rows.first { $0.server == "b1" })
        #expect(b1.queued == 1 && b1.status == "UP 1/2")
    }

    @Test("an answer without the header is an error, not an empty table")
    func noHeader() {
        #expect(throws: ProxyError.self) { try ProxyStat.parse(csv: "Unknown command.\n") }
    }
}

@Suite("ServiceRecord")
struct ServiceRecordTests {
    @Test("replicas and backups become fixed slots a1…aN and b1…bN")
    func slots() {
        let service = ProxiedService(name: "web", image: "app:1", port: 3000, replicas: 2, backups: 2, network: "net",
                                     proxy: ProxyListener(port: 8080))
        let record = ServiceRecord(service: service)
        #expect(record.slots.map(\.server) == ["a1", "a2", "b1", "b2"])
        #expect(record.slots.map(\.backup) == [false, false, true, true])
        #expect(record.backend.servers.allSatisfy { $0.address == nil })
    }
}

extension Substring {
    func trimmingCharacters() -> String { String(drop { $0 == " " }) }
}
