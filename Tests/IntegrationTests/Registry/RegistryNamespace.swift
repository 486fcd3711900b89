import Foundation

/// A network namespace of its own where a registry is not on loopback: `address` (198.18.5.1,
/// a benchmarking address only this namespace has) on its `lo`, so berth speaks HTTPS to it as
/// to any remote registry. The registry, berth and skopeo run in it through nsenter; the host's
/// network is never touched. `remove` deletes it with everything in it.
struct RegistryNamespace {
    let name: String
    let address = "198.18.5.1"

    init() throws {
        name = "berth-registry-\(UUID().uuidString.prefix(8).lowercased())"
        let setup = """
            set -e
            ip netns add \(name)
            ip -n \(name) link set lo up
            ip -n \(name) addr add \(address)/32 dev lo
            """
        let made = try Command.run("/bin/sh", ["-c", setup])
        guard made.status == 0 else {
            _ = try? Command.run("/usr/sbin/ip", ["netns", "del", name])
            throw FixtureError(message: "cannot make the registry's network namespace: \(made.stderr)")
        }
    }

    func remove() {
        _ = try? Command.run("/usr/sbin/ip", ["netns", "del", name])
    }

    /// `command` (a path and its arguments) as run in the namespace.
    func command(_ command: [String]) -> [String] {
        ["/usr/bin/nsenter", "--net=/run/netns/\(name)"] + command
    }

    func run(_ command: [String], stdin: String? = nil, timeout: Double = 60) throws -> Command.Result {
        let full = self.command(command)
        return try Command.run(full[0], Array(full.dropFirst()), stdin: stdin, timeout: timeout)
    }

    /// Whether something in the namespace accepts a TCP connection on `host:port` (bash's
    /// /dev/tcp, from inside).
    func accepts(_ host: String, _ port: Int) -> Bool {
        (try? run(["/bin/bash", "-c", "exec 3<>/dev/tcp/\(host)/\(port)"], timeout: 5))?.status == 0
    }
}
