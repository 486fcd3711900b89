import BerthNetwork
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Where a container's network comes from.
public enum NetworkChoice: Sendable, Equatable {
    /// A network namespace of its own with only lo.
    case none
    /// The host's network namespace.
    case host
    /// Another container's network namespace (by id).
    case container(String)
    /// A bridge (or CNI) network of the store: `bridge` or a user-defined one.
    case network(NetworkDefinition)
}

extension ContainerEngine {
    /// The networks of this state root.
    public func networks() throws -> NetworkStore { try NetworkStore(stateRoot: stateRoot, now: Timestamp.now) }

    public func networking() throws -> Networking { Networking(store: try networks()) }

    /// `--network`'s value checked and resolved: an unknown network or container is an error
    /// before anything is created.
    func networkChoice(_ mode: String) throws -> NetworkChoice {
        switch mode {
        case "none": return .none
        case "host": return .host
        case "", "bridge", "default": return .network(try networks().defaultNetwork())
        default:
            if mode.hasPrefix("container:") {
                let name = String(mode.dropFirst("container:".count))
                guard !name.isEmpty else {
                    throw ContainerError(.invalidArgument, "--network container: names no container: use container:NAME")
                }
                return .container(try store.find(name).id)
            }
            do {
                return .network(try networks().find(mode))
            } catch let error as ContainerError where error.code == .notFound {
                throw ContainerError(.notFound, "network \(mode) not found: create it with berth network create \(mode), "
                                     + "or use bridge, none, host or container:NAME")
            }
        }
    }

    /// Checks the request's network options and applies them to `config`: the namespaces, and
    /// for a bridge network the bind mounts of the name files. Returns the record's NetworkMode.
    func applyNetwork(_ request: ContainerRequest, id: String, exposedPorts: [String], to config: inout ContainerConfig,
                      host: inout HostSettings) throws {
        let choice = try networkChoice(request.network)
        var ports: [PortRequest] = []
        for entry in request.publish { ports += try PortRequest.parse(entry) }
        if request.publishAll {
            for key in exposedPorts {
                let parts = key.split(separator: "/")
                guard let port = parts.first.flatMap({ UInt16($0) }), port > 0,
                      let proto = PortProtocol(rawValue: parts.count > 1 ? String(parts[1]) : "tcp") else { continue }
                if !ports.contains(where: { $0.containerPort == port && $0.proto == proto }) {
                    ports.append(PortRequest(hostPorts: nil, containerPort: port, proto: proto))
                }
            }
        }
        if let ip = request.ipAddress, IPv4Address(ip) == nil {
            throw ContainerError(.invalidArgument, "--ip \(ip) is not an IPv4 address")
        }
        for alias in request.networkAliases where !NetworkDefinition.isValidName(alias) {
            throw ContainerError(.invalidArgument, "--network-alias \"\(alias)\" is not a host name: use letters, digits, '_', '.' and '-'")
        }
        switch choice {
        case .network(let network):
            if request.ipAddress != nil && network.isDefault {
                throw ContainerError(.invalidArgument, "--ip needs a user-defined network: the default bridge network "
                                     + "hands out its addresses itself (as Docker's)")
            }
            if !request.networkAliases.isEmpty && network.isDefault {
                throw ContainerError(.invalidArgument, "--network-alias needs a user-defined network: the default bridge "
                                     + "network has no name resolution (as Docker's)")
            }
            // A host port taken by a process of the host is said now, before anything is made.
            for request in ports {
                if let range = request.hostPorts, range.count == 1 {
                    try HostPorts.checkBindable(PortBinding(hostAddress: request.hostAddress, hostPort: range.lowerBound,
                                                            containerPort: request.containerPort, proto: request.proto))
                }
            }
            // In the runtime directory: the container's own directory in the store is where an
            // image container's root is mounted, which hides what is in it from the child.
            let directory = runDirectory.directory(of: id)
            for (file, target) in Networking.files {
                config.bindMounts.append(BindMount(source: directory + "/" + file, destination: target, readOnly: false))
            }
            host.networkMode = network.isDefault ? "bridge" : network.name
        case .none, .host, .container:
            if !ports.isEmpty {
                throw ContainerError(.invalidArgument, "-p and -P need a bridge network: --network \(request.network) "
                                     + "has no ports of its own to publish")
            }
            if request.ipAddress != nil || !request.networkAliases.isEmpty {
                throw ContainerError(.invalidArgument, "--ip and --network-alias need a user-defined network, "
                                     + "not --network \(request.network)")
            }
            if case .container(let other) = choice {
                if request.userns == .auto {
                    throw ContainerError(.unsupported, "--network container: cannot be combined with --userns=auto: the "
                                         + "other container's network namespace belongs to another user namespace")
                }
                config.namespaces.remove(.network)
                host.networkMode = "container:" + other
            } else {
                host.networkMode = request.network
            }
            if choice == .host, case .image = request.root {
                // The host's own name files (written at each start), over the image's: a
                // debootstrap root's resolv.conf is empty. Not into a --rootfs directory, which
                // is the caller's own: a missing mount point would be made in it.
                let directory = runDirectory.directory(of: id)
                for (file, target) in Networking.files {
                    config.bindMounts.append(BindMount(source: directory + "/" + file, destination: target, readOnly: false))
                }
            }
        }
        host.portBindings = ports
        host.publishAllPorts = request.publishAll
        host.networkAliases = request.networkAliases
        host.ipAddress = request.ipAddress
    }

    /// The network a container's record says it is on, when it is a bridge network.
    func bridgeNetwork(of record: ContainerRecord) throws -> NetworkDefinition? {
        let mode = record.hostConfig.networkMode
        guard mode != "none", mode != "host", !mode.hasPrefix("container:") else { return nil }
        return try networks().find(mode)
    }

    /// What a start needs for the container's network: for `container:` the other container's
    /// namespace (it must run), for a bridge network the step that attaches the child to it.
    func prepareNetwork(of record: ContainerRecord, config: inout ContainerConfig) throws -> ((pid_t) throws -> Void)? {
        let mode = record.hostConfig.networkMode
        if mode == "host" {
            let directory = runDirectory.directory(of: record.id), hostname = record.config.hostname
            return { _ in try Networking.prepareHostFiles(directory: directory, hostname: hostname) }
        }
        if mode.hasPrefix("container:") {
            let other = try store.find(String(mode.dropFirst("container:".count)))
            guard runDirectory.isHeld(id: other.id), other.state.pid > 0 else {
                throw ContainerError(.invalidState, "container \(other.name) is not running: --network container:\(other.name) "
                                     + "joins its network, so start it first")
            }
            config.networkNamespacePath = "/proc/\(other.state.pid)/ns/net"
            return nil
        }
        guard let network = try bridgeNetwork(of: record) else { return nil }
        let networking = try networking()
        var endpoint = Endpoint(container: record.id, name: record.name, hostname: record.config.hostname,
                                filesDirectory: runDirectory.directory(of: record.id))
        endpoint.aliases = record.hostConfig.networkAliases
        endpoint.address = record.hostConfig.ipAddress.flatMap(IPv4Address.init)
        endpoint.ports = record.hostConfig.portBindings
        return { pid in
            try Networking.prepareFiles(endpoint)
            _ = try networking.attach(endpoint, to: network, pid: pid)
        }
    }

    /// Takes the container off its network (its ports, veth, lease, names): at its end, and
    /// when its start failed. What is already gone is skipped.
    func leaveNetwork(_ record: ContainerRecord) {
        do {
            guard let network = try bridgeNetwork(of: record) else { return }
            try networking().detach(container: record.id, from: network)
        } catch {
            logger.warning("cannot take the container off its network; the next berth command retries",
                           metadata: ["container": "\(record.shortID)", "error": "\(error)"])
        }
    }

    /// Leases of containers whose supervisor is gone (a SIGKILLed berth or monitor).
    func reconcileNetworks() {
        guard let networking = try? networking() else { return }
        networking.reconcile(isRunning: runDirectory.isHeld(id:))
    }

    /// The container's addresses and published ports now, by network: nil when it is not on one.
    public func attachment(of record: ContainerRecord) -> (NetworkDefinition, Lease)? {
        guard let network = try? bridgeNetwork(of: record), let networking = try? networking() else { return nil }
        return networking.members(of: network).first { $0.container == record.id }.map { (network, $0) }
    }
}

// MARK: networks as objects (`berth network ...`)

extension ContainerEngine {
    /// Creates a network: only its definition, until a container joins it.
    public func createNetwork(_ request: NetworkStore.CreateRequest) throws -> NetworkDefinition {
        try networks().create(request)
    }

    /// The running containers on `network`, by name.
    public func users(of network: NetworkDefinition) -> [String] {
        list().filter { record in
            guard state(of: record).status == .running else { return false }
            return (try? bridgeNetwork(of: record))??.id == network.id
        }.map(\.name)
    }

    /// Removes a network no running container is on: its bridge, its rules and its definition (a
    /// CNI network's bridge and rules are its plugins', left as they made them).
    public func removeNetwork(_ name: String) throws -> NetworkDefinition {
        let store = try networks()
        let network = try store.find(name)
        try store.remove(network, inUseBy: network.isDefault ? [] : users(of: network))
        let networking = Networking(store: store)
        try networking.removeBridge(of: network)
        // A CNI network's rules are its plugins', gone with its containers' DELs.
        if network.driver == .bridge { try networking.rewriteFirewall(removing: [network]) }
        return network
    }

    /// Removes every user-defined network no running container is on; returns their names.
    public func pruneNetworks() throws -> [String] {
        var removed: [String] = []
        for network in try networks().list() where !network.isDefault && users(of: network).isEmpty {
            removed.append(try removeNetwork(network.name).name)
        }
        return removed
    }
}
