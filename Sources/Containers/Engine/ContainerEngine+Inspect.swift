import JSON

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
