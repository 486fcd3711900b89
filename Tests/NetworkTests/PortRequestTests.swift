import Testing
@testable import BerthNetwork

@Suite("PortRequest")
struct PortRequestTests {
    @Test("Docker's -p forms")
    func forms() throws {
        #expect(try PortRequest.parse("80") == [PortRequest(hostPorts: nil, containerPort: 80, proto: .tcp)])
        #expect(try PortRequest.parse("8080:80") == [PortRequest(hostPorts: 8080...8080, containerPort: 80, proto: .tcp)])
        #expect(try PortRequest.parse("127.0.0.1:8080:80/udp")
                == [PortRequest(hostAddress: IPv4Address("127.0.0.1")!, hostPorts: 8080...8080, containerPort: 80, proto: .udp)])
        #expect(try PortRequest.parse("127.0.0.1::80")
                == [PortRequest(hostAddress: IPv4Address("127.0.0.1")!, hostPorts: nil, containerPort: 80, proto: .tcp)])
        let range = try PortRequest.parse("8000-8002:9000-9002")
        #expect(range.map(\.containerPort) == [9000, 9001, 9002])
        #expect(range.map(\.hostPorts) == [8000...8000, 8001...8001, 8002...8002])
        #expect(try PortRequest.parse("8000-8010:80") == [PortRequest(hostPorts: 8000...8010, containerPort: 80, proto: .tcp)])
        #expect(try PortRequest.parse(":80") == [PortRequest(hostPorts: nil, containerPort: 80, proto: .tcp)])
    }

    @Test("malformed -p values are refused, naming what is wrong", arguments: [
        ("", "not a port"), ("0", "not a port"), ("65536", "not a port"), ("80/sctp", "sctp"), ("80/icmp", "unknown protocol"),
        ("1:2:3:4", "too many colons"), ("300.1.1.1:80:80", "not an IPv4 address"), ("[::1]:80:80", "IPv6"),
        ("8000-8001:80-82", "has 2 ports"), ("90-80:80", "not a port"), ("a:80", "not a port"), ("1.2.3.4:80", "not a port"),
    ])
    func malformed(text: String, why: String) {
        #expect {
            try PortRequest.parse(text)
        } throws: { error in
            "\(error)".contains(why) && "\(error)".contains("invalid -p")
        }
    }
}

@Suite("IPv4")
struct IPv4Tests {
    @Test("addresses and subnets")
    func parsing() {
        #expect(IPv4Address("10.0.0.1")?.description == "10.0.0.1")
        #expect(IPv4Address("010.0.0.1") == nil)
        #expect(IPv4Address("1.2.3") == nil)
        #expect(IPv4Address("1.2.3.256") == nil)
        #expect(IPv4Subnet("10.89.0.0/24")?.broadcast.description == "10.89.0.255")
        #expect(IPv4Subnet("10.89.0.1/24") == nil)
        #expect(IPv4Subnet("10.0.0.0/8")!.overlaps(IPv4Subnet("10.89.0.0/24")!))
        #expect(!IPv4Subnet("10.88.0.0/16")!.overlaps(IPv4Subnet("10.89.0.0/24")!))
    }

    @Test("resolv.conf: loopback resolvers left out, Docker's fallback when none is left")
    func resolvConf() {
        #expect(NameFiles.resolvConf(from: "nameserver 10.255.255.53\n") == "nameserver 10.255.255.53\n")
        let local = NameFiles.resolvConf(from: "search lan\nnameserver 127.0.0.53\noptions edns0\n")
        #expect(local == "search lan\noptions edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n")
    }
}
