import CommandLineParsing
import Containers
import JSON
import BerthNetwork

/// `berth network create`: a bridge or CNI network containers join with `--network NAME`.
struct CreateNetwork: BerthCommand {
    static let spec = CommandSpec(
        name: "create", abstract: "Create a network.",
        discussion: """
            A bridge network: a Linux bridge, an IPv4 subnet (one no route of the host's covers, unless \
            --subnet is given), outbound traffic masqueraded. Containers on it reach each other by name \
            and --network-alias; networks do not reach each other. With --driver cni, the CNI plugins \
            a configuration list names (--config FILE.conflist, plugins in /usr/lib/cni, /opt/cni/bin or \
            BERTH_CNI_PATH) make the network, and its ipam gives the addresses.
            """,
        usage: "[OPTIONS] NAME",
        options: [
            .value("driver", short: "d", valueName: "driver", help: "bridge or cni (default: bridge)"),
            .value("config", valueName: "file", help: "The CNI network configuration list (--driver cni)."),
            .value("subnet", valueName: "cidr", help: "The IPv4 subnet, e.g. 10.89.0.0/24."),
            .value("gateway", valueName: "address", help: "The bridge's address in the subnet (default: the first)."),
            .repeatable("label", valueName: "key=value", help: "A label on the network."),
        ])

    static var failureCode: Int32 { 125 }

    let global: GlobalOptions
    let request: NetworkStore.CreateRequest

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 1, let name = parsed.positionals.first else {
            throw UsageError("network create needs exactly one network name")
        }
        var request = NetworkStore.CreateRequest(name: name, created: Timestamp.now())
        switch parsed.string("driver") ?? "bridge" {
        case "bridge": request.driver = .bridge
        case "cni": request.driver = .cni
        case let other: throw UsageError("unknown --driver \"\(other)\": use bridge or cni")
        }
        request.cniConfigFile = parsed.string("config")
        if request.driver == .cni && request.cniConfigFile == nil {
            throw UsageError("--driver cni needs --config FILE: the CNI network configuration list (.conflist)")
        }
        if request.driver != .cni && request.cniConfigFile != nil {
            throw UsageError("--config is for --driver cni: a bridge network takes --subnet and --gateway")
        }
        request.subnet = parsed.string("subnet")
        request.gateway = parsed.string("gateway")
        if request.gateway != nil && request.subnet == nil {
            throw UsageError("--gateway needs --subnet: give the subnet the gateway is in")
        }
        for label in parsed.strings("label") {
            let parts = label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = parts.first, !key.isEmpty else { throw UsageError("--label \"\(label)\" names no key: use key=value") }
            request.labels[String(key)] = parts.count > 1 ? String(parts[1]) : ""
        }
        self.request = request
    }

    func run() throws -> Int32 {
        let network = try global.engine().createNetwork(request)
        Output.print(network.id)
        return 0
    }
}

/// `berth network ls`.
struct ListNetworks: BerthCommand {
    static let spec = CommandSpec(
        name: "ls", abstract: "List networks.",
        options: [
            .flag("quiet", short: "q", help: "Only the ids."),
            .flag("no-trunc", help: "Full ids."),
            .value("format", valueName: "format", help: "table, json (one object per line), or a Go template ({{.Name}})."),
        ])

    let global: GlobalOptions
    let quiet: Bool
    let noTrunc: Bool
    let format: ListFormat

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        quiet = parsed.flag("quiet")
        noTrunc = parsed.flag("no-trunc")
        format = try ListFormat(parsed)
        if let extra = parsed.positionals.first { throw UsageError("network ls takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let networks = try global.engine().networks().list()
        var table = Table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"])
        if format == .json || format.templateOutput() != nil {
            let templated = format.templateOutput(headers: ["ID": "NETWORK ID"])
            var rows = networks.map { (noTrunc ? $0.id : String($0.id.prefix(12)), $0.name, $0.driver.rawValue) }
            rows += [("host", "host", "host"), ("none", "none", "null")]
            for (id, name, driver) in rows {
                try emitRow(templated, [("ID", .string(id)), ("Name", .string(name)), ("Driver", .string(driver)), ("Scope", "local")])
            }
            templated?.finish()
            return 0
        }
        for network in networks {
            let id = noTrunc ? network.id : String(network.id.prefix(12))
            if quiet { Output.print(id) } else { table.add([id, network.name, network.driver.rawValue, "local"]) }
        }
        // host and none are modes, not networks berth makes; listed as Docker lists them.
        if !quiet {
            table.add(["host", "host", "host", "local"])
            table.add(["none", "none", "null", "local"])
            Output.print(table.render())
        }
        return 0
    }
}

/// `berth network inspect`.
struct InspectNetworks: BerthCommand {
    static let spec = CommandSpec(
        name: "inspect", abstract: "Show networks as JSON.", usage: "[OPTIONS] NETWORK [NETWORK...]",
        options: [.flag("check", help: "On a CNI network, run its plugins' CHECK for each container; exit 1 when one fails.")])

    let global: GlobalOptions
    let names: [String]
    let check: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        check = parsed.flag("check")
        if names.isEmpty { throw UsageError("network inspect needs at least one network") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        let networking = try engine.networking()
        var results: [JSONValue] = []
        var failed = false
        for name in names {
            do {
                let network = try networking.store.find(name)
                results.append(Self.json(network, members: networking.members(of: network)))
                if check {
                    let failures = try networking.checkCNI(network)
                    failures.forEach { Output.error($0) }
                    failed = failed || !failures.isEmpty
                }
            } catch {
                Output.error(error)
                failed = true
            }
        }
        Output.print(String(decoding: JSON.serialize(.array(results), pretty: true), as: UTF8.self))
        return failed ? 1 : 0
    }

    /// Docker's shape: Name, Id, Created, Driver, IPAM.Config, Containers (the running ones), Labels.
    static func json(_ network: NetworkDefinition, members: [Lease]) -> JSONValue {
        let prefix = network.addressing?.subnet.prefixLength ?? 0
        let containers: [(key: String, value: JSONValue)] = members.map { lease in
            (key: lease.container, value: .object([
                (key: "Name", value: .string(lease.name)),
                (key: "IPv4Address", value: .string("\(lease.address)/\(lease.prefixLength ?? prefix)")),
                (key: "Aliases", value: .array(lease.aliases.map(JSONValue.string))),
            ]))
        }
        return .object([
            (key: "Name", value: .string(network.name)), (key: "Id", value: .string(network.id)),
            (key: "Created", value: .string(network.created)), (key: "Scope", value: "local"),
            (key: "Driver", value: .string(network.driver.rawValue)), (key: "EnableIPv6", value: .bool(false)),
            (key: "IPAM", value: .object([
                (key: "Driver", value: "default"),
                (key: "Config", value: .array([.object([(key: "Subnet", value: .string(network.subnet)),
                                                        (key: "Gateway", value: .string(network.gateway))])])),
            ])),
            (key: "Internal", value: .bool(false)), (key: "Containers", value: .object(containers)),
            (key: "Options", value: .object([(key: "com.docker.network.bridge.name", value: .string(network.bridge))])),
            (key: "Labels", value: .object(network.labels.sorted { $0.key < $1.key }.map { (key: $0.key, value: .string($0.value)) })),
        ])
    }
}

/// `berth network rm`.
struct RemoveNetworks: BerthCommand {
    static let spec = CommandSpec(name: "rm", abstract: "Remove networks no running container is on.", usage: "NETWORK [NETWORK...]")

    let global: GlobalOptions
    let names: [String]

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        if names.isEmpty { throw UsageError("network rm needs at least one network") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        var failed = false
        for name in names {
            do {
                _ = try engine.removeNetwork(name)
                Output.print(name)
            } catch {
                Output.error(error)
                failed = true
            }
        }
        return failed ? 1 : 0
    }
}

/// `berth network prune`.
struct PruneNetworks: BerthCommand {
    static let spec = CommandSpec(
        name: "prune", abstract: "Remove every user-defined network no running container is on.",
        options: [.flag("force", short: "f", help: "Accepted for Docker's sake: berth does not ask for confirmation.")])

    let global: GlobalOptions

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        if let extra = parsed.positionals.first { throw UsageError("network prune takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        let removed = try engine.pruneNetworks()
        if !removed.isEmpty {
            Output.print("Deleted Networks:")
            for name in removed { Output.print(name) }
        }
        return 0
    }
}

/// `berth port CONTAINER [PORT[/PROTO]]`: where the container's ports are published.
struct ContainerPorts: BerthCommand {
    static let spec = CommandSpec(name: "port", abstract: "List a container's published ports.",
                                  usage: "CONTAINER [PRIVATE_PORT[/PROTO]]")

    let global: GlobalOptions
    let container: String
    let port: String?

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard let first = parsed.positionals.first, parsed.positionals.count <= 2 else {
            throw UsageError("port needs a container, and at most one port")
        }
        container = first
        port = parsed.positionals.dropFirst().first
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        let record = try engine.find(container)
        let bindings = engine.state(of: record).status == .running ? engine.attachment(of: record)?.1.ports ?? [] : []
        if let port {
            let key = port.contains("/") ? port : port + "/tcp"
            let matching = bindings.filter { "\($0.containerPort)/\($0.proto.rawValue)" == key }
            guard !matching.isEmpty else {
                throw ContainerError(.notFound, "no public port '\(key)' published for \(record.name)")
            }
            for binding in matching { Output.print("\(binding.hostAddress):\(binding.hostPort)") }
            return 0
        }
        for binding in bindings {
            Output.print("\(binding.containerPort)/\(binding.proto.rawValue) -> \(binding.hostAddress):\(binding.hostPort)")
        }
        return 0
    }
}
