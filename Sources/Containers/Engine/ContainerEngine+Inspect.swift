import JSON
import BerthNetwork

extension ContainerEngine {
    /// The container as `docker inspect` shows it: the record with its state checked against the
    /// kernel, its bind mounts, and the paths of its layers.
    public func inspect(_ record: ContainerRecord) -> JSONValue {
        var stored = record
        stored.state = state(of: record)
        guard case .object(var fields) = stored.json else { return stored.json }
        let mounts: [JSONValue] = record.hostConfig.binds.map { bind in
            let parts = bind.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            return .object([
                (key: "Type", value: "bind"), (key: "Source", value: .string(parts.first ?? "")),
                (key: "Destination", value: .string(parts.count > 1 ? parts[1] : "")),
                (key: "RW", value: .bool(!(parts.count > 2 && parts[2] == "ro"))),
            ])
        }
        // Docker's names start with a slash (its legacy container links).
        if let index = fields.firstIndex(where: { $0.key == "Name" }) { fields[index].value = .string("/" + record.name) }
        // A record from before `Mounts` was kept: its binds are all it had.
        if record.mounts.isEmpty, let index = fields.firstIndex(where: { $0.key == "Mounts" }) { fields[index].value = .array(mounts) }
        addingHealth(to: &fields, of: record, state: stored.state)
        fields.append((key: "NetworkSettings", value: networkSettings(record, running: stored.state.status == .running)))
        if let rootfs = record.rootfs {
            fields.append((key: "GraphDriver", value: .object([
                (key: "Name", value: "rootfs"), (key: "Data", value: .object([(key: "MergedDir", value: .string(rootfs))])),
            ])))
        } else {
            fields.append((key: "GraphDriver", value: .object([
                (key: "Name", value: "overlay"),
                (key: "Data", value: .object([
                    (key: "UpperDir", value: .string(store.upperDirectory(of: record.id))),
                    (key: "WorkDir", value: .string(store.workDirectory(of: record.id))),
                    (key: "MergedDir", value: .string(store.rootfsDirectory(of: record.id))),
                ])),
            ])))
        }
        return .object(fields)
    }
}

extension ContainerEngine {
    /// Docker's NetworkSettings: the address, gateway and published ports while it runs.
    func networkSettings(_ record: ContainerRecord, running: Bool) -> JSONValue {
        let current = running ? attachment(of: record) : nil
        var ports: [(key: String, value: JSONValue)] = []
        for binding in current?.1.ports ?? [] {
            let key = "\(binding.containerPort)/\(binding.proto.rawValue)"
            let entry: JSONValue = .object([(key: "HostIp", value: .string(binding.hostAddress.description)),
                                            (key: "HostPort", value: .string(String(binding.hostPort)))])
            if let index = ports.firstIndex(where: { $0.key == key }), case .array(let list) = ports[index].value {
                ports[index].value = .array(list + [entry])
            } else {
                ports.append((key: key, value: .array([entry])))
            }
        }
        var networks: [(key: String, value: JSONValue)] = []
        var address = "", gateway = "", prefix = 0
        if let (network, lease) = current {
            // A CNI network's plugins say the prefix and gateway per container.
            address = lease.address.description
            gateway = (lease.gateway ?? network.addressing?.gateway)?.description ?? ""
            prefix = lease.prefixLength ?? network.addressing?.subnet.prefixLength ?? 0
            networks.append((key: network.name, value: .object([
                (key: "NetworkID", value: .string(network.id)), (key: "Aliases", value: .array(lease.aliases.map(JSONValue.string))),
                (key: "IPAddress", value: .string(address)), (key: "IPPrefixLen", value: .number(JSONNumber(prefix))),
                (key: "Gateway", value: .string(gateway)),
            ])))
        }
        return .object([
            (key: "Ports", value: .object(ports)), (key: "IPAddress", value: .string(address)),
            (key: "IPPrefixLen", value: .number(JSONNumber(prefix))), (key: "Gateway", value: .string(gateway)),
            (key: "Networks", value: .object(networks)),
        ])
    }

    /// `ps`'s PORTS: `0.0.0.0:8080->80/tcp, ...` while it runs.
    public func portsText(_ record: ContainerRecord) -> String {
        guard let (_, lease) = attachment(of: record) else { return "" }
        return lease.ports.map(\.description).joined(separator: ", ")
    }
}
