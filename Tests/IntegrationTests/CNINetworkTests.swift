import Foundation
import Testing

extension Host {
    /// Debian's containernetworking-plugins, which the CNI tests run.
    static let hasCNIPlugins = ["bridge", "host-local", "portmap", "tuning"].allSatisfy {
        FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/" + $0)
    } && FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables")
}

extension Containers {
    /// Issue 13's CNI driver with Debian's plugins (bridge + host-local + portmap), each test in
    /// a stand-in host of its own: addresses from the conflist's ipam, names, -p through
    /// portmap, DEL at the end, and bad conflists refused whole.
    @Suite("CNINetworks", .enabled(if: Host.hasNetworkTools && Host.hasCNIPlugins))
    struct CNINetworks {
        let fixture = Fixture.shared

        /// bridge + host-local + portmap (+ `extra` plugins), host-local's state in the test's root.
        static func conflist(_ host: StandInHost, portmap: Bool = true, extra: String = "") -> String {
            """
            {
              "cniVersion": "1.0.0",
              "name": "berth-cni-test",
              "plugins": [
                {
                  "type": "bridge", "bridge": "cni0-test", "isGateway": true, "ipMasq": true,
                  "ipam": {
                    "type": "host-local", "dataDir": "\(host.root)/cni-ipam",
                    "ranges": [[{"subnet": "10.99.3.0/24", "gateway": "10.99.3.1"}]],
                    "routes": [{"dst": "0.0.0.0/0"}]
                  }
                }\(portmap ? #", {"type": "portmap", "capabilities": {"portMappings": true}}"# : "")\(extra)
              ]
            }
            """
        }

        /// Writes `text` in the test's root and creates network `name` from it.
        static func create(_ host: StandInHost, _ name: String, _ text: String) throws -> Command.Result {
            let file = host.root + "/\(name).conflist"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            return try host.berth(["network", "create", "--driver", "cni", "--config", file, name])
        }

        /// host-local's address files, the CNI records and the pinned namespaces berth keeps.
        static func cniState(_ host: StandInHost) throws -> (addresses: String, records: String, mounts: String) {
            let addresses = try Command.run("/bin/sh", ["-c", "ls \(host.root)/cni-ipam/berth-cni-test 2>/dev/null | grep -E '^[0-9.]+$' || true"])
            let records = try Command.run("/bin/sh", ["-c", "ls \(host.root)/networks/*/cni 2>/dev/null | grep -v : || true"])
            let mounts = try Command.run("/bin/sh", ["-c", "grep -c '\(host.root)/networks/.*netns' /proc/self/mountinfo || true"])
            return (addresses.output, records.output, mounts.output)
        }

        @Test("a CNI network: an address from its ipam, names, another container, -p through portmap; rm -f runs DEL")
        func cniNetwork() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let created = try Self.create(host, "cninet", Self.conflist(host))
            #expect(created.status == 0, "\(created.stderr)")
            #expect(try host.berth(["network", "ls"]).stdout.contains("cninet"), "listed")
            let network = try host.berth(["network", "inspect", "cninet"]).stdout
            #expect(network.contains("\"Driver\": \"cni\"") && network.contains("\"Subnet\": \"10.99.3.0/24\""), "\(network)")

            let web = try host.berth(["run", "-d", "--name", "web", "--network", "cninet", "-p", "8080:80", StandInHost.image,
                                      "/bin/payload", "serve", "tcp", "80"])
            #expect(web.status == 0, "\(web.stderr)")
            try waitFor("the server listens") { try host.berth(["logs", "web"]).stdout.contains("listening") }
            let eth0 = try host.berth(["exec", "web", "ip", "-4", "-o", "addr", "show", "eth0"]).output
            let address = try #require(eth0.range(of: #"10\.99\.3\.\d+"#, options: .regularExpression).map { String(eth0[$0]) },
                                       "an address of the conflist's subnet: \(eth0)")
            #expect(eth0.contains("\(address)/24"), "\(eth0)")
            #expect(try Self.cniState(host).addresses == address, "host-local holds the address")
            let inspect = try host.berth(["inspect", "web"]).stdout
            #expect(inspect.contains("\"IPAddress\": \"\(address)\"") && inspect.contains("\"Gateway\": \"10.99.3.1\""), "\(inspect)")
            #expect(try host.berth(["network", "inspect", "cninet"]).stdout.contains("\"\(address)/24\""))

            // Another container on the network, at the address it asks for (host-local's IP
            // argument): reaches web by address and by name (its /etc/hosts).
            let client = try host.berth(["run", "--rm", "--network", "cninet", "--ip", "10.99.3.50", StandInHost.image, "sh", "-c",
                                         "/bin/payload ask tcp \(address) 80; ping -c1 -W2 web >/dev/null && echo named"])
            #expect(client.stdout.contains("peer=10.99.3.50") && client.stdout.contains("named"), "\(client.stdout)\(client.stderr)")

            // -p through portmap: from the stand-in host's address and from another host.
            #expect(try host.berth(["port", "web"]).output == "80/tcp -> 0.0.0.0:8080")
            #expect(try host.berth(["ps"]).stdout.contains("0.0.0.0:8080->80/tcp"))
            let own = try host.shell("\(host.payload) ask tcp \(StandInHost.address) 8080")
            #expect(own.status == 0 && own.output.hasPrefix("peer="), "\(own.stdout)\(own.stderr)")
            let remote = try host.onOtherHost("\(host.payload) ask tcp \(StandInHost.address) 8080")
            #expect(remote.status == 0 && remote.output.hasPrefix("peer="), "\(remote.stdout)\(remote.stderr)")
            #expect(try host.shell("iptables -t nat -S | grep -c 'dport 8080' || true").output != "0", "portmap's DNAT")

            // A network in use stays; rm -f runs DEL: host-local's lease, berth's lease and record go.
            #expect(try host.berth(["network", "rm", "cninet"]).status != 0)
            #expect(try host.berth(["rm", "-f", "web"]).status == 0)
            let state = try Self.cniState(host)
            #expect(state.addresses.isEmpty && state.records.isEmpty && state.mounts == "0", "\(state)")
            #expect(try host.leftovers().leases.isEmpty)
            #expect(try host.shell("iptables -t nat -S | grep -c 'dport 8080' || true").output == "0", "portmap's DNAT gone")
            #expect(try host.berth(["network", "rm", "cninet"]).status == 0)
        }

        @Test("a plugin failing its ADD: one line, exit 125, the plugins already run are undone")
        func failingPlugin() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            // tuning refuses a sysctl the kernel does not have, after bridge and portmap worked.
            let broken = #", {"type": "tuning", "sysctl": {"net.ipv4.conf.eth0.no_such_sysctl": "1"}}"#
            #expect(try Self.create(host, "broken", Self.conflist(host, extra: broken)).status == 0)
            let r = try host.berth(["run", "--rm", "--network", "broken", "-p", "8080:80", StandInHost.image, "true"])
            #expect(r.status == 125, "\(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("CNI plugin tuning cannot add the container to network broken")
                    && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            let state = try Self.cniState(host)
            #expect(state.addresses.isEmpty && state.records.isEmpty && state.mounts == "0", "\(state)")
            #expect(try host.leftovers().leases.isEmpty)
            #expect(try host.shell("iptables -t nat -S | grep -c 'dport 8080' || true").output == "0", "portmap's DNAT undone")
        }

        @Test("network inspect --check runs the plugins' CHECK: fine as ADD left it, not once the veth is gone")
        func check() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            // Without portmap: 1.1.1's CHECK looks for IPv6 chains it never made.
            #expect(try Self.create(host, "cninet", Self.conflist(host, portmap: false)).status == 0)
            #expect(try host.berth(["run", "-d", "--name", "web", "--network", "cninet", StandInHost.image, "sleep", "120"]).status == 0)
            let check = try host.berth(["network", "inspect", "--check", "cninet"])
            #expect(check.status == 0 && check.stderr.isEmpty, "\(check.stderr)")
            let cut = try host.shell("ip -o link show master cni0-test | awk -F': ' '{print $2}' | cut -d@ -f1 | xargs -r -n1 ip link del")
            #expect(cut.status == 0, "\(cut.stderr)")
            let broken = try host.berth(["network", "inspect", "--check", "cninet"])
            #expect(broken.status == 1 && broken.stderr.contains("container web: CNI plugin bridge cannot check it on network cninet"),
                    "\(broken.stderr)")
            #expect(try host.berth(["rm", "-f", "web"]).status == 0)
            let state = try Self.cniState(host)
            #expect(state.addresses.isEmpty && state.records.isEmpty && state.mounts == "0", "\(state)")
        }

        @Test("a container whose monitor was killed: the next commands run its DEL")
        func killedMonitor() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            #expect(try Self.create(host, "cninet", Self.conflist(host)).status == 0)
            #expect(try host.berth(["run", "-d", "--name", "mon", "--network", "cninet", StandInHost.image, "sleep", "120"]).status == 0)
            #expect(try !Self.cniState(host).addresses.isEmpty)
            let killed = try Command.run("/usr/bin/pkill", ["-KILL", "-f", "berth-monitor .*\(host.root).* monitor-exit"])
            #expect(killed.status == 0, "the monitor was found and killed")
            #expect(try host.berth(["rm", "-f", "mon"]).status == 0)
            try waitFor("the next commands leave nothing", timeout: 30) {
                _ = try host.berth(["ps", "-a"])
                let state = try Self.cniState(host)
                return state.addresses.isEmpty && state.records.isEmpty && state.mounts == "0"
            }
        }

        @Test("bad CNI configurations: one line, exit 125, no network made", arguments: [
            ("{\"cniVersion\": \"1.0.0\", \"name\": ", "is not a CNI network configuration: "),
            ("{\"cniVersion\": \"1.0.0\", \"name\": \"x\"}", "it has neither \"plugins\" nor a plugin \"type\""),
            ("{\"name\": \"x\", \"plugins\": [{\"type\": \"bridge\"}]}", "it has no \"cniVersion\""),
            ("{\"cniVersion\": \"1.0.0\", \"name\": \"x\", \"plugins\": [{\"bridge\": \"b\"}]}", "plugin 1 has no \"type\""),
            ("{\"cniVersion\": \"1.0.0\", \"name\": \"x\", \"plugins\": [{\"type\": \"bridge\", \"ipam\": {\"type\": \"nosuch-ipam\"}}, "
             + "{\"type\": \"nosuch\"}]}", "CNI plugins nosuch-ipam, nosuch of "),
        ])
        func badConfiguration(text: String, message: String) throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let r = try Self.create(host, "bad", text)
            #expect(r.status == 125, "\(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains(message) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            let networks = try Command.run("/bin/sh", ["-c", "ls -A \(host.root)/networks | grep -v '^bridge$' | grep -v '^\\.lock$' || true"])
            #expect(networks.output.isEmpty, "\(networks.output)")
            let missing = try host.berth(["network", "create", "--driver", "cni", "--config", host.root + "/none.conflist", "n"])
            #expect(missing.status == 125 && missing.stderr.contains("cannot read the CNI configuration"), "\(missing.stderr)")
        }
    }
}
