import FileSystem
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// Containers onto CNI networks and off them: the conflist's plugins run in order with ADD
/// (each one's result chained into the next one's `prevResult`), in reverse with DEL and the
/// cached result. The address the plugins gave becomes a lease, so names, ports and inspect work
/// as on bridge networks.
extension Networking {
    func attachCNI(_ endpoint: Endpoint, to network: NetworkDefinition, pid: pid_t) throws -> Attachment {
        let configuration = try cniConfiguration(of: network)
        if !endpoint.ports.isEmpty && !configuration.plugins.contains(where: { $0.capabilities.contains("portMappings") }) {
            throw NetworkError(.invalidArgument, "network \(network.name)'s CNI configuration has no plugin with the "
                               + "portMappings capability (such as portmap): -p and -P cannot publish ports on it")
        }
        let directory = store.path(of: network.name)
        let leases = LeaseDirectory(path: directory + "/leases")
        return try FileLock.withLock(directory + "/.lock") {
            var lease = Lease(container: endpoint.container, name: endpoint.name, aliases: endpoint.aliases, address: .any,
                              veth: "", ports: [], hostsFile: endpoint.filesDirectory + "/hosts", hostname: endpoint.hostname)
            // With published ports, the ports are picked, the plugins run and the lease taken
            // under one lock of the whole store, as on bridge networks.
            func add() throws {
                lease.ports = try resolvePorts(endpoint.ports)
                try addCNI(&lease, requestedAddress: endpoint.address, configuration: configuration, network: network,
                           pid: pid, leases: leases)
            }
            if endpoint.ports.isEmpty { try add() } else { try FileLock.withLock(portsLockPath, add) }
            updateNames(leases, network: network, joining: endpoint.container)
            return Attachment(network: network.name, networkID: network.id, address: lease.address,
                              prefixLength: lease.prefixLength ?? 32, gateway: lease.gateway ?? .any, veth: lease.veth,
                              ports: lease.ports, aliases: lease.aliases)
        }
    }

    /// DEL for the container, then its lease and name go. A failed DEL keeps the record, so the
    /// next berth command tries again (once).
    func detachCNI(container: String, from network: NetworkDefinition) throws {
        let directory = store.path(of: network.name)
        let leases = LeaseDirectory(path: directory + "/leases")
        try FileLock.withLock(directory + "/.lock") {
            defer { updateNames(leases, network: network, joining: nil) }
            try removeCNI(container, network: network, leases: leases, force: false)
        }
    }

    /// DEL for the containers on `network` that no longer run, whatever they left (a record, a
    /// lease or both); their records go even when the DEL fails.
    func reconcileCNI(_ network: NetworkDefinition, isRunning: (String) -> Bool) {
        let directory = store.path(of: network.name)
        let leases = LeaseDirectory(path: directory + "/leases")
        try? FileLock.withLock(directory + "/.lock") {
            var stale: [String] = []
            for container in leases.all().map(\.container) + CNICache.containers(in: directory)
            where !isRunning(container) && !stale.contains(container) {
                stale.append(container)
            }
            for container in stale { try? removeCNI(container, network: network, leases: leases, force: true) }
            updateNames(leases, network: network, joining: nil)
        }
    }

    /// CHECK for every container on the CNI network `network` (the plugins in order, each with
    /// the cached result): one error per container whose networking is not as its ADD left it.
    /// Nothing is run when the conflist sets `disableCheck`.
    public func checkCNI(_ network: NetworkDefinition) throws -> [NetworkError] {
        guard network.driver == .cni else { return [] }
        let directory = store.path(of: network.name)
        return try FileLock.withLock(directory + "/.lock") {
            var failures: [NetworkError] = []
            for lease in LeaseDirectory(path: directory + "/leases").all() {
                guard let cache = try StoreFile.read(CNICache.self, CNICache.file(lease.container, network: directory)),
                      let config = try? CNIConfiguration.parse(JSON.serialize(cache.config), file: "the cached configuration"),
                      !config.disableCheck else { continue }
                let netns = CNICache.netnsPath(lease.container, network: directory)
                let invocation = CNIInvocation(command: .check, containerID: lease.container,
                                               netns: CNICache.isPinned(netns) ? netns : "", ifName: cache.ifName,
                                               args: cache.argPairs)
                for index in config.plugins.indices {
                    let stdin = config.stdin(for: index, previousResult: cache.result, runtimeConfig: cache.runtimeConfig.object ?? [])
                    do {
                        _ = try invocation.run(config.plugins[index].type, network: network.name, stdin: stdin)
                    } catch let error as NetworkError {
                        failures.append(error.context("container \(lease.name)"))
                        break
                    }
                }
            }
            return failures
        }
    }

    // MARK: steps

    private func cniConfiguration(of network: NetworkDefinition) throws -> CNIConfiguration {
        let file = store.path(of: network.name) + "/" + CNIConfiguration.fileName
        do {
            return try CNIConfiguration.parse(try FileIO.readFile(file), file: file)
        } catch let error as FileSystemError {
            throw NetworkError.system("cannot read network \(network.name)'s CNI configuration \(file)", errno: error.errno)
        }
    }

    /// ADD through every plugin, then the lease; on any failure DEL for every plugin (the spec
    /// asks it of a failed ADD) and nothing is left.
    private func addCNI(_ lease: inout Lease, requestedAddress: IPv4Address?, configuration: CNIConfiguration,
                        network: NetworkDefinition, pid: pid_t, leases: LeaseDirectory) throws {
        let directory = store.path(of: network.name)
        do {
            try Directory.make(CNICache.directory(directory), mode: 0o700)
        } catch {
            throw NetworkError.system("cannot create \(CNICache.directory(directory))", errno: error.errno)
        }
        let file = CNICache.file(lease.container, network: directory)
        let netns = CNICache.netnsPath(lease.container, network: directory)
        let config = (try? JSON.parse(configuration.text)) ?? .null
        var cache = CNICache(container: lease.container, ifName: "eth0",
                             // host-local's way to ask for one address (--ip).
                             args: requestedAddress.map { [["IP", $0.description]] } ?? [],
                             runtimeConfig: .object(lease.ports.isEmpty ? [] : [(key: "portMappings", value: Self.portMappings(lease.ports))]),
                             config: config, result: nil)
        try StoreFile.write(cache, to: file, durable: false)
        do {
            try CNICache.pinNamespace(of: pid, at: netns)
        } catch {
            unlink(file)
            throw error
        }
        let invocation = CNIInvocation(command: .add, containerID: lease.container, netns: netns, args: cache.argPairs)
        var result: JSONValue?
        do {
            for index in configuration.plugins.indices {
                let stdin = configuration.stdin(for: index, previousResult: result, runtimeConfig: cache.runtimeConfig.object ?? [])
                result = try invocation.run(configuration.plugins[index].type, network: network.name, stdin: stdin) ?? result
            }
            guard let result else {
                throw NetworkError(.unsupported, "the CNI plugins of network \(network.name) gave no result for the container")
            }
            let parsed = try CNIResult(result, network: network.name)
            cache.result = result
            try StoreFile.write(cache, to: file, durable: false)
            lease.address = parsed.address
            lease.prefixLength = parsed.prefixLength
            lease.gateway = parsed.gateway
            lease.veth = parsed.hostInterface
            guard try leases.take(lease) else {
                throw NetworkError(.conflict, "the CNI plugins of network \(network.name) gave the container \(parsed.address), "
                                   + "which another container's lease holds: check the conflist's ipam")
            }
        } catch {
            cache.result = result
            _ = delete(cache, network: network.name, netns: netns)
            unlink(file)
            CNICache.unpinNamespace(at: netns)
            throw error
        }
    }

    /// DEL with the cached record, the record and the pinned namespace removed when it worked
    /// (or `force`), and the container's leases released.
    private func removeCNI(_ container: String, network: NetworkDefinition, leases: LeaseDirectory, force: Bool) throws {
        let directory = store.path(of: network.name)
        let file = CNICache.file(container, network: directory)
        let netns = CNICache.netnsPath(container, network: directory)
        var failure: NetworkError?
        if let cache = try? StoreFile.read(CNICache.self, file) {
            failure = delete(cache, network: network.name, netns: CNICache.isPinned(netns) ? netns : "")
        }
        if failure == nil || force {
            unlink(file)
            CNICache.unpinNamespace(at: netns)
        }
        for lease in leases.all() where lease.container == container { leases.release(lease.address) }
        if let failure { throw failure }
    }

    /// DEL through every plugin of the cached configuration, last first; all run, the first
    /// failure is returned.
    private func delete(_ cache: CNICache, network: String, netns: String) -> NetworkError? {
        let configuration: CNIConfiguration
        do {
            configuration = try CNIConfiguration.parse(JSON.serialize(cache.config), file: "the cached CNI configuration")
        } catch {
            return error as? NetworkError ?? NetworkError(.corrupt, "the cached CNI configuration of network \(network) is unreadable")
        }
        let invocation = CNIInvocation(command: .del, containerID: cache.container, netns: netns, ifName: cache.ifName,
                                       args: cache.argPairs)
        var failure: NetworkError?
        for index in configuration.plugins.indices.reversed() {
            let stdin = configuration.stdin(for: index, previousResult: cache.result, runtimeConfig: cache.runtimeConfig.object ?? [])
            do {
                _ = try invocation.run(configuration.plugins[index].type, network: network, stdin: stdin)
            } catch let error as NetworkError {
                failure = failure ?? error
            } catch {
                failure = failure ?? NetworkError(.systemError, "\(error)")
            }
        }
        return failure
    }

    /// The `portMappings` capability's value (CONVENTIONS.md): hostIP only for a port published
    /// on one address.
    static func portMappings(_ bindings: [PortBinding]) -> JSONValue {
        .array(bindings.map { binding in
            var fields: [(key: String, value: JSONValue)] = [
                (key: "hostPort", value: .number(JSONNumber(Int(binding.hostPort)))),
                (key: "containerPort", value: .number(JSONNumber(Int(binding.containerPort)))),
                (key: "protocol", value: .string(binding.proto.rawValue)),
            ]
            if binding.hostAddress != .any { fields.append((key: "hostIP", value: .string(binding.hostAddress.description))) }
            return .object(fields)
        })
    }
}
