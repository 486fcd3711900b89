import Foundation
import Testing

/// Waits for `condition` (see `eventually`), failing the test with `what` when it never holds.
func waitFor(_ what: String, timeout: Double = 10, _ condition: () throws -> Bool) throws {
    guard try eventually(within: timeout, condition) else { throw FixtureError(message: "timed out waiting until \(what)") }
}

extension Containers {
    /// Issue 13's networks and published ports, each test in a stand-in host of its own
    /// (StandInHost): the default bridge, user-defined networks with names, -p and -P for tcp
    /// and udp from the host, another host and another container, and nothing left behind.
    @Suite("Networks", .enabled(if: Host.hasNetworkTools))
    struct Networks {
        let fixture = Fixture.shared

        /// The number after "peer=" in a payload answer, or the whole answer.
        static func peer(_ result: Command.Result) -> String {
            result.output.split(separator: "\n").last.map { String($0) }?.replacingOccurrences(of: "peer=", with: "") ?? ""
        }

        @Test("the default bridge: an address, a default route, the name files; nothing left after --rm")
        func defaultBridge() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let r = try host.berth(["run", "--rm", "--hostname", "box", StandInHost.image, "sh", "-c",
                                    "ip -4 -o addr show eth0; ip route; cat /etc/hosts /etc/hostname; grep -c nameserver /etc/resolv.conf"])
            #expect(r.status == 0, "\(r.stderr)")
            let network = try host.berth(["network", "inspect", "bridge"])
            let subnet = try #require(network.stdout.range(of: #"\d+\.\d+\.\d+\.\d+/\d+"#, options: .regularExpression))
            let prefix = network.stdout[subnet].split(separator: ".").prefix(2).joined(separator: ".")
            #expect(r.stdout.contains("eth0    inet \(prefix)."), "\(r.stdout)")
            #expect(r.stdout.contains("default via \(prefix).0.1 dev eth0"), "\(r.stdout)")
            #expect(r.stdout.contains("\tbox"), "its own line in /etc/hosts: \(r.stdout)")
            #expect(r.stdout.contains("127.0.0.1\tlocalhost"))
            #expect(r.stdout.split(separator: "\n").contains("box"), "/etc/hostname")
            let left = try host.leftovers()
            #expect(left.veths.isEmpty && left.leases.isEmpty, "\(left)")
            let image = try host.berth(["run", "--rm", "--network", "none", StandInHost.image, "ls", "/sys/class/net"])
            #expect(image.output == "lo", "--network none keeps only lo: \(image.output)")
        }

        @Test("a user-defined network made before the default bridge exists: a run on it starts")
        func userNetworkBeforeTheDefault() throws {
            // The firewall is first written by the run; it lists the networks under the store's
            // lock, and listing made the missing default network under that same lock again:
            // a flock of one file through a second open file waited for itself.
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let created = try host.berth(["network", "create", "first"])
            #expect(created.status == 0, "\(created.stderr)")
            let r = try host.berth(["run", "--rm", "--network", "first", StandInHost.image, "true"], timeout: 30)
            #expect(r.status == 0, "\(r.stderr)")
            let left = try host.leftovers()
            #expect(left.veths.isEmpty && left.leases.isEmpty, "\(left)")
        }

        @Test("the bridge's hardware address is 02:42 and its gateway, and stays so while members come and go")
        func bridgeHardwareAddress() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            for name in ["first", "second"] {
                let r = try host.berth(["run", "-d", "--name", name, StandInHost.image, "sleep", "60"])
                #expect(r.status == 0, "\(r.stderr)")
            }
            // The stand-in host is a network namespace of its own: its only bridge is berth's.
            let bridge = try host.shell("ip -o link show type bridge | cut -d: -f2 | tr -d ' '").output
            let gateway = try host.shell("ip -4 -o addr show dev \(bridge) | awk '{print $4}' | cut -d/ -f1").output
            let expected = "02:42:" + gateway.split(separator: ".").map { String(format: "%02x", Int($0) ?? -1) }.joined(separator: ":")
            // (Not /sys/class/net: nsenter --net keeps the real host's sysfs.)
            func address() throws -> String {
                try host.shell("ip -o link show dev \(bridge) | sed 's|.*link/ether \\([0-9a-f:]*\\).*|\\1|'").output
            }
            #expect(try address() == expected, "bridge \(bridge), gateway \(gateway)")
            // A bridge without an address of its own takes its lowest port's: with two members,
            // one of the two removals below would change it (and flush the host's neighbours).
            for name in ["first", "second"] {
                #expect(try host.berth(["rm", "-f", name]).status == 0)
                #expect(try address() == expected, "after \(name) left")
            }
            #expect(try host.berth(["run", "--rm", StandInHost.image, "true"]).status == 0)
            #expect(try address() == expected, "after a third came and went")
        }

        @Test("-p: tcp from the host, the host's address, another host (its source address kept) and another container")
        func publishedTCP() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let web = try host.berth(["run", "-d", "--name", "web", "-p", "8080:80", StandInHost.image, "/bin/payload", "serve", "tcp", "80"])
            #expect(web.status == 0, "\(web.stderr)")
            try waitFor("the server listens") { try host.berth(["logs", "web"]).stdout.contains("listening") }
            let loopback = try host.shell("\(host.payload) ask tcp 127.0.0.1 8080")
            #expect(loopback.status == 0 && loopback.output.hasPrefix("peer="), "\(loopback.stdout)\(loopback.stderr)")
            let own = try host.shell("\(host.payload) ask tcp \(StandInHost.address) 8080")
            #expect(own.status == 0 && own.output.hasPrefix("peer="), "\(own.stdout)")
            let remote = try host.onOtherHost("\(host.payload) ask tcp \(StandInHost.address) 8080")
            #expect(Self.peer(remote) == StandInHost.otherAddress, "DNAT keeps the client's address: \(remote.stdout)")
            let hairpin = try host.berth(["run", "--rm", StandInHost.image, "/bin/payload", "ask", "tcp", StandInHost.address, "8080"])
            #expect(hairpin.status == 0 && hairpin.output.hasPrefix("peer="), "\(hairpin.stdout)\(hairpin.stderr)")

            #expect(try host.berth(["port", "web"]).output == "80/tcp -> 0.0.0.0:8080")
            #expect(try host.berth(["port", "web", "80"]).output == "0.0.0.0:8080")
            #expect(try host.berth(["ps"]).stdout.contains("0.0.0.0:8080->80/tcp"))
            let inspect = try host.berth(["inspect", "web"]).stdout
            #expect(inspect.contains("\"80/tcp\": [") && inspect.contains("\"HostPort\": \"8080\""), "\(inspect)")

            // The port is taken: a second container cannot publish it, and nothing of it is made.
            let clash = try host.berth(["run", "-d", "--name", "clash", "-p", "8080:80", StandInHost.image, "true"])
            #expect(clash.status == 125, "\(clash.stderr)")
            #expect(clash.stderr.contains("8080") && clash.stderr.split(separator: "\n").count == 1, "\(clash.stderr)")

            #expect(try host.berth(["rm", "-f", "web", "clash"]).status != -1)
            let left = try host.leftovers()
            #expect(left.veths.isEmpty && left.leases.isEmpty && left.elements == "0\n0", "\(left)")
            let gone = try host.shell("\(host.payload) ask tcp 127.0.0.1 8080")
            #expect(gone.status != 0, "the port is no longer published: \(gone.stdout)")
        }

        @Test("-p udp, an address-bound port, and a port a host process holds (refused before anything is made)")
        func publishedUDPAndBoundPorts() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            #expect(try host.berth(["run", "-d", "--name", "dns", "-p", "5353:53/udp", StandInHost.image,
                                    "/bin/payload", "serve", "udp", "53"]).status == 0)
            #expect(try host.berth(["run", "-d", "--name", "local", "-p", "127.0.0.1:9000:80", StandInHost.image,
                                    "/bin/payload", "serve", "tcp", "80"]).status == 0)
            try waitFor("both serve") {
                try host.berth(["logs", "dns"]).stdout.contains("listening") && host.berth(["logs", "local"]).stdout.contains("listening")
            }
            let udp = try host.onOtherHost("\(host.payload) ask udp \(StandInHost.address) 5353")
            #expect(udp.output == "peer=\(StandInHost.otherAddress) got=ping", "\(udp.stdout)")
            #expect(try host.shell("\(host.payload) ask tcp 127.0.0.1 9000").status == 0)
            let elsewhere = try host.onOtherHost("\(host.payload) ask tcp \(StandInHost.address) 9000")
            #expect(elsewhere.status != 0, "published on 127.0.0.1 only: \(elsewhere.stdout)")

            // A port a host process listens on.
            let holder = try Spawned("/usr/bin/nsenter", ["--net=/run/netns/\(host.name)", host.payload, "serve", "tcp", "7777"],
                                     stdout: "/dev/null", stderr: "/dev/null")
            defer { kill(holder.pid, SIGKILL); _ = holder.wait(seconds: 5) }
            try waitFor("the host process listens") { try host.shell("\(host.payload) ask tcp 127.0.0.1 7777").status == 0 }
            let before = try host.berth(["ps", "-aq"]).output
            let taken = try host.berth(["run", "--rm", "-p", "7777:80", StandInHost.image, "true"])
            #expect(taken.status == 125)
            #expect(taken.stderr.contains("host port 0.0.0.0:7777/tcp is already in use on the host"), "\(taken.stderr)")
            #expect(try host.berth(["ps", "-aq"]).output == before, "no container was made")
        }

        @Test("-P publishes the image's EXPOSEd ports on free host ports")
        func publishAll() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            #expect(try host.berth(["run", "--name", "base", "--network", "none", StandInHost.image, "true"]).status == 0)
            #expect(try host.berth(["commit", "-c", "EXPOSE 80", "-c", "EXPOSE 53/udp", "base", "exposing:1"]).status == 0)
            let started = try host.berth(["run", "-d", "--name", "svc", "-P", "exposing:1", "/bin/payload", "serve", "tcp", "80"])
            #expect(started.status == 0, "\(started.stderr)")
            let ports = try host.berth(["port", "svc"]).output.split(separator: "\n").map(String.init)
            #expect(ports.count == 2, "\(ports)")
            let tcp = try #require(ports.first { $0.hasPrefix("80/tcp -> 0.0.0.0:") })
            #expect(ports.contains { $0.hasPrefix("53/udp -> 0.0.0.0:") })
            let hostPort = try #require(tcp.split(separator: ":").last.map(String.init))
            try waitFor("the server listens") { try host.berth(["logs", "svc"]).stdout.contains("listening") }
            #expect(try host.onOtherHost("\(host.payload) ask tcp \(StandInHost.address) \(hostPort)").status == 0)
        }

        @Test("a user-defined network: names and aliases, /etc/hosts kept current, isolation, outbound masquerade")
        func userDefinedNetwork() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let created = try host.berth(["network", "create", "--subnet", "10.89.7.0/24", "backend"])
            #expect(created.status == 0, "\(created.stderr)")
            #expect(try host.berth(["network", "ls"]).stdout.contains("backend"))
            #expect(try host.berth(["run", "-d", "--name", "db", "--network", "backend", "--network-alias", "database",
                                    "--ip", "10.89.7.50", StandInHost.image, "/bin/payload", "serve", "tcp", "5432"]).status == 0)
            let client = try host.berth(["run", "--rm", "--name", "client", "--network", "backend", StandInHost.image, "sh", "-c",
                                         "ping -c1 -W2 db >/dev/null && ping -c1 -W2 database >/dev/null && echo reached; "
                                         + "cat /etc/hosts; /bin/payload ask tcp 10.89.7.50 5432"])
            #expect(client.stdout.contains("reached"), "\(client.stdout)\(client.stderr)")
            #expect(client.stdout.contains("10.89.7.50\tdb database"), "\(client.stdout)")
            #expect(client.stdout.contains("peer=10.89.7."), "same network, no NAT: \(client.stdout)")

            // A container joining shows in db's /etc/hosts while it runs, and leaves it at its end.
            #expect(try host.berth(["run", "-d", "--name", "cache", "--network", "backend", StandInHost.image, "sleep", "60"]).status == 0)
            #expect(try host.berth(["exec", "db", "cat", "/etc/hosts"]).stdout.contains("\tcache"))
            #expect(try host.berth(["rm", "-f", "cache"]).status == 0)
            #expect(!(try host.berth(["exec", "db", "cat", "/etc/hosts"]).stdout.contains("cache")))

            // The default bridge has no names, and networks do not reach each other.
            let byName = try host.berth(["run", "--rm", StandInHost.image, "ping", "-c1", "-W1", "db"])
            #expect(byName.status != 0)
            let across = try host.berth(["run", "--rm", StandInHost.image, "/bin/payload", "ask", "tcp", "10.89.7.50", "5432"])
            #expect(across.status != 0, "\(across.stdout)")

            // Outbound: another host sees the stand-in host's address (masqueraded).
            let server = try Spawned("/usr/bin/nsenter", ["--net=/run/netns/\(host.other)", host.payload, "serve", "tcp", "7070"],
                                     stdout: "/dev/null", stderr: "/dev/null")
            defer { kill(server.pid, SIGKILL); _ = server.wait(seconds: 5) }
            try waitFor("the other host's server listens") {
                try host.onOtherHost("\(host.payload) ask tcp 127.0.0.1 7070").status == 0
            }
            let outbound = try host.berth(["run", "--rm", "--network", "backend", StandInHost.image,
                                           "/bin/payload", "ask", "tcp", StandInHost.otherAddress, "7070"])
            #expect(Self.peer(outbound) == StandInHost.address, "\(outbound.stdout)\(outbound.stderr)")

            let inUse = try host.berth(["network", "rm", "backend"])
            #expect(inUse.status != 0 && inUse.stderr.contains("in use by container db"), "\(inUse.stderr)")
            let inspect = try host.berth(["network", "inspect", "backend"]).stdout
            #expect(inspect.contains("\"10.89.7.50/24\"") && inspect.contains("\"Subnet\": \"10.89.7.0/24\""), "\(inspect)")
            #expect(try host.berth(["rm", "-f", "db"]).status == 0)
            #expect(try host.berth(["network", "rm", "backend"]).status == 0)
            #expect(try host.shell("ip -o link show | grep -c br- || true").output == "0", "the bridge went with the network")
            #expect(try host.shell("nft list ruleset | grep -c br_ || true").output == "0", "its rules too")
        }

        @Test("two state roots on one host: each its own bridge and subnet, and one's network changes leave the other's rules")
        func twoStateRoots() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let other = try fixture.makeStateRoot()
            defer { _ = try? Command.run("/bin/rm", ["-rf", other]) }
            func second(_ args: String) throws -> Command.Result {
                try host.shell("\(fixture.berth) --root \(other) \(args)")
            }
            #expect(try second("import \(fixture.rootfs) \(StandInHost.image)").status == 0)
            let server = try Spawned("/usr/bin/nsenter", ["--net=/run/netns/\(host.other)", host.payload, "serve", "tcp", "7171"],
                                     stdout: "/dev/null", stderr: "/dev/null")
            defer { kill(server.pid, SIGKILL); _ = server.wait(seconds: 5) }
            try waitFor("the other host's server listens") {
                try host.onOtherHost("\(host.payload) ask tcp 127.0.0.1 7171").status == 0
            }
            let ask = ["run", "--rm", StandInHost.image, "/bin/payload", "ask", "tcp", StandInHost.otherAddress, "7171"]
            #expect(Self.peer(try host.berth(ask)) == StandInHost.address)
            // The second root's default network, and a network it makes, rewrite berth's table.
            let secondRun = try second("run --rm --cgroup-parent \(fixture.cgroupParent) \(StandInHost.image) ip -4 -o addr show eth0")
            #expect(secondRun.status == 0, "\(secondRun.stderr)")
            #expect(try second("network create apart").status == 0)
            let bridges = try host.shell("ip -o link show type bridge | awk -F': ' '{print $2}'").output.split(separator: "\n")
            #expect(bridges.count == 2, "each root's default bridge: \(bridges)")
            #expect(Self.peer(try host.berth(ask)) == StandInHost.address, "the first root's masquerade is still there")
            #expect(try second("network rm apart").status == 0)
            #expect(Self.peer(try host.berth(ask)) == StandInHost.address)
        }

        @Test("--network container:NAME shares the other's network namespace")
        func containerNetwork() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            #expect(try host.berth(["run", "-d", "--name", "first", StandInHost.image, "/bin/payload", "serve", "tcp", "80"]).status == 0)
            let first = try host.berth(["exec", "first", "ip", "-4", "-o", "addr", "show", "eth0"]).output
            let joined = try host.berth(["run", "--rm", "--network", "container:first", StandInHost.image, "sh", "-c",
                                         "ip -4 -o addr show eth0; /bin/payload ask tcp 127.0.0.1 80"])
            #expect(joined.status == 0, "\(joined.stderr)")
            #expect(joined.stdout.hasPrefix(first) && joined.stdout.contains("peer=127.0.0.1"), "\(joined.stdout) vs \(first)")
            let stopped = try host.berth(["run", "--rm", "--network", "container:nosuch", StandInHost.image, "true"])
            #expect(stopped.status == 125 && stopped.stderr.contains("no such container"), "\(stopped.stderr)")
        }

        @Test("bad network input: one line, exit 125, nothing made", arguments: [
            (["run", "--rm", "-p", "80:80:80:80", StandInHost.image, "true"], "invalid -p \"80:80:80:80\": too many colons"),
            (["run", "--rm", "-p", "99999", StandInHost.image, "true"], "invalid -p \"99999\""),
            (["run", "--rm", "--network", "nosuch", StandInHost.image, "true"], "network nosuch not found"),
            (["run", "--rm", "--network", "none", "-p", "80", StandInHost.image, "true"], "-p and -P need a bridge network"),
            (["run", "--rm", "--ip", "10.1.1.1", StandInHost.image, "true"], "--ip needs a user-defined network"),
            (["network", "create", "--subnet", "10.0.0.1/8", "n1"], "--subnet 10.0.0.1/8 is not an IPv4 subnet"),
            (["network", "create", "--subnet", "198.18.0.0/16", "n2"], "overlaps the host's route to 198.18.0.0/24 on up0"),
            (["network", "create", "bridge"], "network name \"bridge\" is reserved"),
            (["network", "create", "bad/name"], "invalid network name \"bad/name\""),
        ])
        func badInput(args: [String], message: String) throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let r = try host.berth(args)
            #expect(r.status == 125, "\(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains(message) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(try host.berth(["ps", "-aq"]).output.isEmpty, "no container was made")
            #expect(try host.shell("ip -o link show | grep -cE 'br-|vb' || true").output == "0")
            let networks = try Command.run("/bin/sh", ["-c", "ls \(host.root)/networks | grep -v '^bridge$' || true"]).output
            #expect(networks.isEmpty, "\(networks)")
        }

        @Test("50 containers started at once get 50 distinct addresses; a killed berth and monitor leave nothing after the next command")
        func concurrencyAndKills() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let count = 50
            let lock = NSLock()
            nonisolated(unsafe) var statuses: [Int32] = []
            DispatchQueue.concurrentPerform(iterations: count) { i in
                let r = try? host.berth(["run", "-d", "--name", "c\(i)", StandInHost.image, "sleep", "120"], timeout: 120)
                lock.withLock { statuses.append(r?.status ?? -1) }
            }
            #expect(statuses.allSatisfy { $0 == 0 }, "\(statuses)")
            let addresses = try Command.run("/bin/sh", ["-c", "ls \(host.root)/networks/bridge/leases | grep -E '^[0-9.]+$'"])
            let distinct = Set(addresses.output.split(separator: "\n"))
            #expect(distinct.count == count, "\(addresses.output)")
            #expect(try host.berth(["rm", "-f"] + (0..<count).map { "c\($0)" }, timeout: 300).status == 0)
            var left = try host.leftovers()
            #expect(left.veths.isEmpty && left.leases.isEmpty, "\(left)")

            // The monitor of a detached container with a published port, killed.
            #expect(try host.berth(["run", "-d", "--name", "mon", "-p", "8181:80", StandInHost.image, "sleep", "120"]).status == 0)
            try waitFor("mon's port is published") { try host.leftovers().elements != "0\n0" }
            let killed = try Command.run("/usr/bin/pkill", ["-KILL", "-f", "berth-monitor .*\(host.root).* monitor-exit"])
            #expect(killed.status == 0, "the monitor was found and killed")
            // A foreground berth, killed while its container runs.
            let foreground = try Spawned("/usr/bin/nsenter", ["--net=/run/netns/\(host.name)", fixture.berth, "--root", host.root,
                                                               "run", "--cgroup-parent", fixture.cgroupParent, "-p", "8282:80",
                                                               StandInHost.image, "sleep", "120"],
                                         stdout: "/dev/null", stderr: "/dev/null")
            try waitFor("the foreground container's port is published") {
                try host.shell("nft list map inet berth ports | grep -c 8282 || true").output == "1"
            }
            kill(foreground.pid, SIGKILL)
            _ = foreground.wait(seconds: 10)
            #expect(try host.berth(["rm", "-f", "mon"]).status == 0)
            try waitFor("the next commands leave nothing", timeout: 30) {
                _ = try host.berth(["ps", "-a"])
                left = try host.leftovers()
                return left.veths.isEmpty && left.leases.isEmpty && left.elements == "0\n0"
            }
        }

        @Test("200 runs in a row leave no veth, rule or lease behind")
        func manyRuns() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let script = "for i in $(seq 1 200); do \(fixture.berth) --root \(host.root) run --rm --cgroup-parent \(fixture.cgroupParent) "
                + "-p 8080:80 \(StandInHost.image) true || exit 1; done"
            let r = try host.shell(script, timeout: 600)
            #expect(r.status == 0, "\(r.stderr)")
            let left = try host.leftovers()
            #expect(left.veths.isEmpty && left.leases.isEmpty && left.elements == "0\n0", "\(left)")
        }

        @Test("a build's RUN steps are on the default bridge unless --network says otherwise")
        func buildOnBridge() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let context = host.root + "-context"
            try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: context) }
            try "FROM \(StandInHost.image)\nRUN ip -4 -o addr show > /addresses\n"
                .write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
            for (flags, tag, expectsEth0) in [([String](), "bridged:1", true), (["--network", "none"], "offline:1", false)] {
                let built = try host.berth(["build", "-q", "-t", tag] + flags + [context])
                #expect(built.status == 0, "\(built.stderr)")
                let addresses = try host.berth(["run", "--rm", "--network", "none", tag, "cat", "/addresses"]).stdout
                #expect(addresses.contains("eth0") == expectsEth0, "\(flags): \(addresses)")
            }
            let left = try host.leftovers()
            #expect(left.veths.isEmpty && left.leases.isEmpty, "\(left)")
        }

        /// A port's element expires at the container's end instead of being deleted (a deletion
        /// costs an RCU grace period when berth's netfilter socket closes). The table of an
        /// earlier berth, whose maps cannot expire elements, is replaced; and a map without
        /// timeouts still gets its elements deleted.
        @Test("published ports: an earlier berth's maps are replaced; elements expire, or are deleted where they cannot")
        func publishedPortMaps() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let earlier = """
                nft -f - <<'EOF'
                add table inet berth
                add map inet berth published { type inet_proto . inet_service : ipv4_addr . inet_service ; }
                add map inet berth published_on { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service ; }
                add chain inet berth published_dnat
                add rule inet berth published_dnat dnat ip to meta l4proto . th dport map @published
                add element inet berth published { tcp . 9999 : 10.255.0.2 . 80 }
                EOF
                """
            #expect(try host.shell(earlier).status == 0)
            let first = try host.berth(["run", "--rm", "-p", "8181:80", StandInHost.image, "true"])
            #expect(first.status == 0, "\(first.stderr)")
            let table = try host.shell("nft list table inet berth").stdout
            #expect(!table.contains("published {") && !table.contains("published_on {") && !table.contains("9999"), "\(table)")
            #expect(table.contains("map ports {") && table.contains("flags timeout"), "\(table)")
            #expect(try host.leftovers().elements == "0\n0")

            // A map without timeouts, as on a kernel that cannot update an element's: deleted.
            let plain = """
                nft -f - <<'EOF'
                flush chain inet berth published_dnat
                delete map inet berth ports
                add map inet berth ports { type inet_proto . inet_service : ipv4_addr . inet_service ; }
                add rule inet berth published_dnat dnat ip to meta l4proto . th dport map @ports
                EOF
                """
            #expect(try host.shell(plain).status == 0)
            let web = try host.berth(["run", "-d", "--name", "web", "-p", "8282:80", StandInHost.image, "/bin/payload", "serve", "tcp", "80"])
            #expect(web.status == 0, "\(web.stderr)")
            #expect(try host.shell("nft list map inet berth ports").stdout.contains("8282"))
            #expect(try host.berth(["rm", "-f", "web"]).status == 0)
            let left = try host.shell("nft list map inet berth ports").stdout
            #expect(!left.contains("8282"), "deleted at once: \(left)")
        }
    }
}
