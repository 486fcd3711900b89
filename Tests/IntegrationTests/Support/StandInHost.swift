import Foundation

/// A stand-in for the host in network tests: a fresh network namespace where berth makes its
/// bridges and nftables table, and a second one, "another host", joined to it by a veth pair
/// (198.18.0.1 here, 198.18.0.2 there; addresses only these namespaces have). berth runs in the
/// stand-in through nsenter; the real host's network is never touched. `remove` deletes both
/// namespaces, and everything berth made in them goes with them.
struct StandInHost {
    let fixture: Fixture
    let name: String
    let other: String
    /// A state root with the fixture's root imported as `payload:1`.
    let root: String
    static let image = "payload:1"
    static let address = "198.18.0.1"
    static let otherAddress = "198.18.0.2"

    init(_ fixture: Fixture) throws {
        self.fixture = fixture
        let tag = UUID().uuidString.prefix(8).lowercased()
        name = "berth-host-\(tag)"
        other = "berth-other-\(tag)"
        root = try fixture.makeStateRoot()
        let setup = """
            set -e
            ip netns add \(name)
            ip netns add \(other)
            ip -n \(name) link set lo up
            ip -n \(other) link set lo up
            ip -n \(name) link add up0 type veth peer name up1 netns \(other)
            ip -n \(name) addr add \(Self.address)/24 dev up0
            ip -n \(other) addr add \(Self.otherAddress)/24 dev up1
            ip -n \(name) link set up0 up
            ip -n \(other) link set up1 up
            ip -n \(other) route add default via \(Self.address)
            """
        let made = try Command.run("/bin/sh", ["-c", setup])
        guard made.status == 0 else {
            _ = try? Command.run("/bin/sh", ["-c", "ip netns del \(name); ip netns del \(other)"])
            throw FixtureError(message: "cannot make the stand-in host: \(made.stderr)")
        }
        let imported = try berth(["import", fixture.rootfs, Self.image])
        guard imported.status == 0 else {
            remove()
            throw FixtureError(message: "import: \(imported.stderr)")
        }
    }

    /// `berth --root ROOT ARGS...` in the stand-in host (a `run` gets the fixture's cgroup parent).
    /// `environment`: `NAME=value`s berth gets besides the test's own.
    func berth(_ args: [String], environment: [String] = [], timeout: Double = 60) throws -> Command.Result {
        var args = args
        if let first = args.first, first == "run" || first == "create" {
            args.insert(contentsOf: ["--cgroup-parent", fixture.cgroupParent], at: 1)
        }
        let command = (environment.isEmpty ? [] : ["/usr/bin/env"] + environment) + [fixture.berth, "--root", root] + args
        return try FileCommand.run("/usr/bin/nsenter", ["--net=/run/netns/\(name)"] + command, timeout: timeout)
    }

    /// A shell command in the stand-in host.
    func shell(_ script: String, timeout: Double = 30) throws -> Command.Result {
        try FileCommand.run("/usr/bin/nsenter", ["--net=/run/netns/\(name)", "/bin/sh", "-c", script], timeout: timeout)
    }

    /// A shell command on "another host".
    func onOtherHost(_ script: String, timeout: Double = 30) throws -> Command.Result {
        try FileCommand.run("/usr/bin/nsenter", ["--net=/run/netns/\(other)", "/bin/sh", "-c", script], timeout: timeout)
    }

    /// The fixture's payload, run on the host side (it is static).
    var payload: String { fixture.rootfs + "/bin/payload" }

    /// The links berth made for containers (veth host ends), lease files, and published-port
    /// elements: what must be gone once no container runs. A veth pair goes with its container's
    /// network namespace, which the kernel tears down in a worker of its own: waited for (10 s
    /// at most).
    func leftovers() throws -> (veths: [String], leases: [String], elements: String) {
        let veths = "ip -o link show | awk -F': ' '{print $2}' | grep '^vb' || true"
        _ = try eventually(within: 10, poll: 0.05) { try shell(veths).output.isEmpty }
        let links = try shell(veths).output
        let leases = try Command.run("/bin/sh", ["-c", "ls \(root)/networks/*/leases/ 2>/dev/null | grep -E '^[0-9.]+$' || true"])
        // An ended container's elements expire (one or two jiffies) rather than go at once.
        let elements = "nft list map inet berth ports 2>/dev/null | grep -c 'elements =' || true; "
            + "nft list map inet berth ports_on 2>/dev/null | grep -c 'elements =' || true"
        _ = try eventually(within: 2, poll: 0.01) { try shell(elements).output == "0\n0" }
        let maps = try shell(elements).output
        func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }
        return (lines(links), lines(leases.output), maps)
    }

    /// Removes every container, then both namespaces.
    func remove() {
        _ = try? berth(["rm", "-f"] + ((try? berth(["ps", "-aq"]).output.split(separator: "\n").map(String.init)) ?? []))
        _ = try? Command.run("/bin/sh", ["-c", "ip netns del \(name); ip netns del \(other); rm -rf \(root)"])
    }
}
