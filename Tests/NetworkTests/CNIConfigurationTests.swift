import JSON
import Testing
@testable import BerthNetwork

@Suite("CNIConfiguration")
struct CNIConfigurationTests {
    static let conflist = """
        {"cniVersion": "1.0.0", "name": "net1", "plugins": [
          {"type": "bridge", "bridge": "cni0", "mtu": 1400, "name": "ignored", "ipam": {"type": "host-local",
           "ranges": [[{"subnet": "10.99.1.0/24", "gateway": "10.99.1.1"}]]}},
          {"type": "portmap", "capabilities": {"portMappings": true, "bandwidth": false}}
        ]}
        """

    static func parse(_ text: String) throws -> CNIConfiguration {
        try CNIConfiguration.parse(Array(text.utf8), file: "test.conflist")
    }

    @Test("a conflist: plugins in order, capabilities, ipam, bridge, mtu")
    func conflist() throws {
        let configuration = try Self.parse(Self.conflist)
        #expect(configuration.name == "net1" && configuration.cniVersion == "1.0.0")
        #expect(configuration.plugins.map(\.type) == ["bridge", "portmap"])
        #expect(configuration.plugins[0].ipamType == "host-local")
        #expect(configuration.plugins[1].capabilities == ["portMappings"])
        #expect(configuration.addressing == ("10.99.1.0/24", "10.99.1.1"))
        #expect(configuration.bridgeName == "cni0" && configuration.mtu == 1400)
        #expect(configuration.missingPlugins(in: ["/nonexistent"]) == ["bridge", "host-local", "portmap"])
    }

    @Test("a single plugin's .conf is a list of one")
    func singleConf() throws {
        let configuration = try Self.parse(
            #"{"cniVersion": "0.4.0", "name": "one", "type": "ptp", "ipam": {"type": "host-local", "subnet": "10.5.0.0/16"}}"#)
        #expect(configuration.plugins.map(\.type) == ["ptp"])
        #expect(configuration.addressing == ("10.5.0.0/16", ""))
    }

    @Test("what a plugin reads: the list's name and version, runtimeConfig only for its capabilities, prevResult")
    func stdin() throws {
        let configuration = try Self.parse(Self.conflist)
        let ports: [(key: String, value: JSONValue)] = [(key: "portMappings", value: [["hostPort": 8080, "containerPort": 80]])]
        let first = try JSON.parse(configuration.stdin(for: 0, previousResult: nil, runtimeConfig: ports))
        #expect(first["name"] == "net1" && first["cniVersion"] == "1.0.0" && first["type"] == "bridge")
        #expect(first["runtimeConfig"] == nil && first["prevResult"] == nil)
        let previous: JSONValue = ["cniVersion": "1.0.0", "ips": [["address": "10.99.1.2/24"]]]
        let second = try JSON.parse(configuration.stdin(for: 1, previousResult: previous, runtimeConfig: ports))
        #expect(second["prevResult"] == previous)
        #expect(second["runtimeConfig"]?["portMappings"]?[0]?["hostPort"]?.int == 8080)
        #expect(second["name"] == "net1")
    }

    @Test("results: ips (0.3.0 and later) and ip4 (before), the host's end of the veth")
    func results() throws {
        let current = try CNIResult(JSON.parse("""
            {"cniVersion": "1.0.0", "interfaces": [{"name": "cni0", "mac": "aa"}, {"name": "veth1234", "mac": "bb"},
              {"name": "eth0", "mac": "cc", "sandbox": "/proc/1/ns/net"}],
             "ips": [{"address": "fd00::2/64", "interface": 2}, {"address": "10.99.1.7/24", "gateway": "10.99.1.1", "interface": 2}]}
            """), network: "n")
        #expect(current.address == IPv4Address("10.99.1.7") && current.prefixLength == 24)
        #expect(current.gateway == IPv4Address("10.99.1.1") && current.hostInterface == "veth1234")
        let old = try CNIResult(JSON.parse(#"{"cniVersion": "0.2.0", "ip4": {"ip": "10.1.0.5/16"}}"#), network: "n")
        #expect(old.address == IPv4Address("10.1.0.5") && old.prefixLength == 16 && old.gateway == nil)
        #expect(throws: NetworkError.self) { try CNIResult(JSON.parse(#"{"ips": []}"#), network: "n") }
    }

    @Test("malformed configurations name what is wrong", arguments: [
        ("[1]", "not a JSON object"), (#"{"name": "a", "plugins": [{"type": "b"}]}"#, "no \"cniVersion\""),
        (#"{"cniVersion": "1.0.0", "name": "a/b", "type": "b"}"#, "\"name\" is missing"),
        (#"{"cniVersion": "1.0.0", "name": "a", "plugins": []}"#, "not a list of plugins"),
        (#"{"cniVersion": "1.0.0", "name": "a", "plugins": [{"type": "b"}, {}]}"#, "plugin 2 has no \"type\""),
    ])
    func malformed(text: String, why: String) {
        #expect {
            try Self.parse(text)
        } throws: { error in
            "\(error)".contains(why) && "\(error)".contains("test.conflist is not a CNI network configuration")
        }
    }
}
