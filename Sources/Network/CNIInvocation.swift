import JSON

/// One run of a CNI plugin, as the spec's execution protocol has it: the command and the
/// container in `CNI_*` variables, the configuration on stdin, the result (or an error object)
/// on stdout.
struct CNIInvocation {
    enum Command: String { case add = "ADD", del = "DEL", check = "CHECK" }

    var command: Command
    var containerID: String
    /// `/proc/PID/ns/net`; empty on a DEL whose container is gone (the spec lets plugins clean up
    /// without it).
    var netns: String
    var ifName = "eth0"
    /// `CNI_ARGS`: `IgnoreUnknown=1` first, so plugins that know no other key accept the rest.
    var args: [(String, String)] = []
    var directories: [String] = CNIConfiguration.pluginDirectories

    /// Seconds a plugin may take (the spec sets none; an IPAM plugin waiting on a daemon could wait forever).
    static let timeout = 120

    var environment: [String] {
        let extra = args.map { "\($0.0)=\($0.1)" }
        return [
            "CNI_COMMAND=\(command.rawValue)", "CNI_CONTAINERID=\(containerID)", "CNI_NETNS=\(netns)",
            "CNI_IFNAME=\(ifName)", "CNI_PATH=\(directories.joined(separator: ":"))",
            "CNI_ARGS=" + (["IgnoreUnknown=1"] + extra).joined(separator: ";"),
            // Plugins run tools of their own (portmap drives iptables).
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
    }

    /// Runs `type` with `stdin`; returns what it printed on success (ADD's result; DEL and CHECK
    /// print nothing), or throws the plugin's own message.
    func run(_ type: String, network: String, stdin: [UInt8]) throws -> JSONValue? {
        guard let path = CNIConfiguration.pluginPath(type, in: directories) else {
            throw NetworkError(.notFound, "CNI plugin \(type) of network \(network) is not in \(directories.joined(separator: ":")): "
                               + "install it (Debian: containernetworking-plugins) or set BERTH_CNI_PATH")
        }
        let result = try Subprocess.run(path, [], environment: environment, input: stdin, timeout: Self.timeout)
        let output = try? JSON.parse(result.output)
        guard result.status == 0 else {
            let verb = command == .add ? "add the container to" : command == .del ? "remove the container from" : "check it on"
            throw NetworkError(.systemError, "CNI plugin \(type) cannot \(verb) network \(network): \(Self.message(output, result))")
        }
        return result.output.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 9 || $0 == 13 }) ? nil : output
    }

    /// The error object's `msg` (and `details`), else what the plugin wrote, in one line.
    static func message(_ output: JSONValue?, _ result: Subprocess.Result) -> String {
        if let msg = output?["msg"]?.string, !msg.isEmpty {
            let details = output?["details"]?.string ?? ""
            return (details.isEmpty || details == msg ? msg : "\(msg) (\(details))").split(whereSeparator: \.isNewline).joined(separator: "; ")
        }
        let text = result.errorText
        return text.isEmpty ? "it exited with status \(result.status)" : text
    }
}

/// The part of a CNI result berth keeps for a container: its IPv4 address, prefix and gateway
/// (from `ips` since spec 0.3.0, `ip4` before), and the host-side interface the plugins name.
struct CNIResult {
    var address: IPv4Address
    var prefixLength: Int
    var gateway: IPv4Address?
    var hostInterface: String

    init(_ result: JSONValue, network: String) throws {
        var found: (String, String?)?
        for ip in result["ips"]?.array ?? [] {
            guard let address = ip["address"]?.string, !address.contains(":") else { continue }
            found = (address, ip["gateway"]?.string)
            break
        }
        if found == nil, let ip4 = result["ip4"], let address = ip4["ip"]?.string {
            found = (address, ip4["gateway"]?.string)
        }
        let parts = found?.0.split(separator: "/")
        guard let found, let parts, parts.count == 2, let address = IPv4Address(String(parts[0])),
              let prefix = Int(parts[1]), (0...32).contains(prefix) else {
            throw NetworkError(.unsupported, "the CNI plugins of network \(network) gave the container no IPv4 address: "
                               + "berth needs one (check the conflist's ipam)")
        }
        self.address = address
        prefixLength = prefix
        gateway = found.1.flatMap { IPv4Address($0) }
        // The bridge plugin lists the bridge, then the host's end of the veth pair, then eth0.
        hostInterface = (result["interfaces"]?.array ?? []).last { ($0["sandbox"]?.string ?? "").isEmpty }?["name"]?.string ?? ""
    }
}
