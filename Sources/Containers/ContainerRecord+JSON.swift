import JSON
import BerthNetwork
import Runtime

/// The record's JSON form, Docker's inspect keys, both ways. Reading is lenient where Docker's
/// is (a missing list is empty, a missing flag false) and strict about what berth needs to act
/// on the container (its id, name, image and command).
extension ContainerRecord {
    public var json: JSONValue {
        .object([
            ("Id", .string(id)), ("Name", .string(name)), ("Created", .string(created)),
            ("Path", .string(path)), ("Args", strings(args)), ("Image", .string(image)),
            ("ImageManifest", .string(imageManifest)), ("State", state.json), ("Config", config.json),
            ("HostConfig", hostConfig.json), ("Rootfs", rootfs.map(JSONValue.string) ?? .null),
            ("RestartCount", .number(JSONNumber(restartCount))), ("BackOffStep", .number(JSONNumber(backOffStep))),
            ("BerthRecordVersion", .number(JSONNumber(formatVersion))), ("Mounts", .array(mounts.map(\.json))),
        ])
    }

    public init(json: JSONValue) throws(ContainerError) {
        let o = try RecordObject(json, "record")
        // Records before version 2 had no version and kept the run command line instead.
        let version = o.int("BerthRecordVersion") ?? 1
        guard version <= Self.formatVersion else {
            throw ContainerError(.unsupported, "the record is of format \(version), written by a newer berth "
                                 + "(this one reads up to \(Self.formatVersion)): use that berth")
        }
        self.init(id: try o.string("Id"), name: try o.string("Name"), created: try o.string("Created"),
                  path: try o.string("Path"), args: o.strings("Args"), image: try o.string("Image"),
                  imageManifest: try o.string("ImageManifest"), state: try ContainerState(json: o.value("State")),
                  config: try ContainerSettings(json: o.value("Config")),
                  hostConfig: try HostSettings(json: o.value("HostConfig")),
                  rootfs: o.value("Rootfs")?.string)
        formatVersion = version
        restartCount = o.int("RestartCount") ?? 0
        backOffStep = o.int("BackOffStep") ?? 0
        mounts = o.value("Mounts")?.array?.compactMap(MountPoint.init(json:)) ?? []
    }
}

extension ContainerState {
    var json: JSONValue {
        .object([
            ("Status", .string(statusName)), ("Running", .bool(status == .running)),
            ("Paused", .bool(paused)), ("Restarting", .bool(status == .restarting)), ("OOMKilled", .bool(oomKilled)),
            ("Dead", .bool(false)), ("Pid", .number(JSONNumber(pid))),
            // Docker's 0 before the first end; null only for an end berth never saw.
            ("ExitCode", exitCode.map { .number(JSONNumber($0)) } ?? (status == .exited ? .null : .number(JSONNumber(0)))),
            ("StartedAt", startedAt.map(JSONValue.string) ?? .null), ("FinishedAt", finishedAt.map(JSONValue.string) ?? .null),
        ])
    }

    init(json: JSONValue?) throws(ContainerError) {
        let o = try RecordObject(json, "State")
        // "paused" is inspect's word for a running container, never written by berth itself;
        // read as running so such a document still loads (the freezer says whether it is paused).
        let name = try o.string("Status")
        guard let status = name == "paused" ? .running : Status(rawValue: name) else {
            throw ContainerError(.systemError, "the record's State.Status is not created, running, restarting or exited")
        }
        let ended = status == .exited || status == .restarting
        self.init(status: status, pid: Int32(o.int("Pid") ?? 0), exitCode: ended ? o.int("ExitCode").map { Int32($0) } : nil,
                  oomKilled: o.value("OOMKilled")?.bool ?? false, startedAt: o.value("StartedAt")?.string,
                  finishedAt: o.value("FinishedAt")?.string)
    }
}

extension ContainerSettings {
    var json: JSONValue {
        .object([
            ("Image", .string(image)), ("Hostname", .string(hostname)), ("User", .string(user)),
            ("Env", strings(env)), ("Cmd", cmd.map(strings) ?? .null), ("Entrypoint", entrypoint.map(strings) ?? .null),
            ("WorkingDir", .string(workingDir)), ("Tty", .bool(tty)), ("OpenStdin", .bool(openStdin)),
            ("StopSignal", stopSignal.map(JSONValue.string) ?? .null),
            ("Labels", .object(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
        ] + (healthcheck.map { [("Healthcheck", $0.json)] } ?? []))
    }

    init(json: JSONValue?) throws(ContainerError) {
        let o = try RecordObject(json, "Config")
        self.init(image: try o.string("Image"), hostname: o.value("Hostname")?.string ?? "",
                  user: o.value("User")?.string ?? "", env: o.strings("Env"),
                  cmd: o.value("Cmd") == nil ? nil : o.strings("Cmd"),
                  entrypoint: o.value("Entrypoint") == nil ? nil : o.strings("Entrypoint"),
                  workingDir: o.value("WorkingDir")?.string ?? "", tty: o.value("Tty")?.bool ?? false,
                  openStdin: o.value("OpenStdin")?.bool ?? false, stopSignal: o.value("StopSignal")?.string)
        healthcheck = HealthCheck(json: o.value("Healthcheck"))
        for (key, value) in o.value("Labels")?.object ?? [] { labels[key] = value.string ?? "" }
    }
}

extension HostSettings {
    var json: JSONValue {
        .object([
            ("AutoRemove", .bool(autoRemove)), ("Binds", strings(binds)), ("Memory", .number(JSONNumber(memory))),
            ("NanoCpus", .number(JSONNumber(nanoCpus))), ("CpuShares", .number(JSONNumber(cpuShares))),
            ("PidsLimit", .number(JSONNumber(pidsLimit))),
            ("ReadonlyRootfs", .bool(readonlyRootfs)), ("NetworkMode", .string(networkMode)),
            ("Privileged", .bool(privileged)), ("CgroupParent", .string(cgroupParent)), ("Cgroup", .string(cgroup)),
            ("RestartPolicy", .object([
                ("Name", .string(restartPolicy.name)),
                ("MaximumRetryCount", .number(JSONNumber(restartPolicy.maximumRetryCount))),
            ])),
            ("LogConfig", .object([
                ("Type", "json-file"),
                ("Config", .object([
                    ("max-size", .string(String(logMaxSize))), ("max-file", .string(String(logMaxFiles))),
                ])),
            ])),
            ("UsernsMode", .string(usernsMode)),
            ("PortBindings", portBindingsJSON), ("PublishAllPorts", .bool(publishAllPorts)),
            ("BerthNetworkAliases", strings(networkAliases)), ("BerthIPAddress", ipAddress.map(JSONValue.string) ?? .null),
        ] + (userNamespace.map { [("BerthUserNamespace", $0.json)] } ?? []))
    }

    init(json: JSONValue?) throws(ContainerError) {
        let o = try RecordObject(json, "HostConfig")
        let policy = o.value("RestartPolicy")
        self.init(autoRemove: o.value("AutoRemove")?.bool ?? false, binds: o.strings("Binds"),
                  memory: Int64(o.int("Memory") ?? 0), nanoCpus: Int64(o.int("NanoCpus") ?? 0),
                  pidsLimit: Int64(o.int("PidsLimit") ?? 0), readonlyRootfs: o.value("ReadonlyRootfs")?.bool ?? false,
                  networkMode: o.value("NetworkMode")?.string ?? "none", privileged: o.value("Privileged")?.bool ?? false,
                  cgroupParent: try o.string("CgroupParent"), cgroup: try o.string("Cgroup"),
                  restartPolicy: RestartPolicy(name: policy?["Name"]?.string ?? "no",
                                               maximumRetryCount: policy?["MaximumRetryCount"]?.int ?? 0))
        cpuShares = Int64(o.int("CpuShares") ?? 0)
        let log = o.value("LogConfig")?["Config"]
        if let size = log?["max-size"]?.string.flatMap({ Int64($0) }) { logMaxSize = size }
        if let files = log?["max-file"]?.string.flatMap({ Int($0) }) { logMaxFiles = files }
        usernsMode = o.value("UsernsMode")?.string ?? ""
        portBindings = Self.portRequests(o.value("PortBindings"))
        publishAllPorts = o.value("PublishAllPorts")?.bool ?? false
        networkAliases = o.strings("BerthNetworkAliases")
        ipAddress = o.value("BerthIPAddress")?.string
        userNamespace = try o.value("BerthUserNamespace").map(UserNamespace.init(json:))
    }
}

private func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

extension HostSettings {
    /// Docker's `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`; a host range is "8000-8010",
    /// any free port "".
    var portBindingsJSON: JSONValue {
        var keys: [String] = []
        var entries: [String: [JSONValue]] = [:]
        for request in portBindings {
            let key = request.containerKey
            if entries[key] == nil { keys.append(key) }
            let ports = request.hostPorts.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" } ?? ""
            let address = request.hostAddress == .any ? "" : request.hostAddress.description
            entries[key, default: []].append(.object([("HostIp", .string(address)), ("HostPort", .string(ports))]))
        }
        return .object(keys.map { ($0, .array(entries[$0] ?? [])) })
    }

    static func portRequests(_ json: JSONValue?) -> [PortRequest] {
        guard let members = json?.object else { return [] }
        var requests: [PortRequest] = []
        for (key, value) in members {
            let parts = key.split(separator: "/")
            guard let port = parts.first.flatMap({ UInt16($0) }),
                  let proto = PortProtocol(rawValue: parts.count > 1 ? String(parts[1]) : "tcp") else { continue }
            for entry in value.array ?? [] {
                let address = entry["HostIp"]?.string.flatMap { $0.isEmpty ? IPv4Address.any : IPv4Address($0) } ?? .any
                let ports = entry["HostPort"]?.string.flatMap { $0.isEmpty ? nil : PortRequest.range($0) }
                requests.append(PortRequest(hostAddress: address, hostPorts: ports, containerPort: port, proto: proto))
            }
        }
        return requests
    }
}

extension UserNamespace {
    /// {"UidMappings": [{"ContainerID", "HostID", "Size"}], "GidMappings": […]}, the OCI spec's names.
    var json: JSONValue {
        func list(_ mappings: [IDMapping]) -> JSONValue {
            .array(mappings.map { m in
                .object([("ContainerID", .number(JSONNumber(Int64(m.containerID)))),
                         ("HostID", .number(JSONNumber(Int64(m.hostID)))), ("Size", .number(JSONNumber(Int64(m.size))))])
            })
        }
        return .object([("UidMappings", list(uidMappings)), ("GidMappings", list(gidMappings))])
    }

    init(json: JSONValue) throws(ContainerError) {
        func list(_ name: String) throws(ContainerError) -> [IDMapping] {
            guard case .array(let items)? = json[name] else {
                throw ContainerError(.corrupt, "the record's BerthUserNamespace has no \(name)")
            }
            var mappings: [IDMapping] = []
            for item in items {
                guard let c = item["ContainerID"]?.int, let h = item["HostID"]?.int, let s = item["Size"]?.int,
                      let container = UInt32(exactly: c), let host = UInt32(exactly: h), let size = UInt32(exactly: s) else {
                    throw ContainerError(.corrupt, "the record's BerthUserNamespace has a malformed \(name) entry")
                }
                mappings.append(IDMapping(containerID: container, hostID: host, size: size))
            }
            return mappings
        }
        self.init(uidMappings: try list("UidMappings"), gidMappings: try list("GidMappings"))
    }
}

/// One object of a record, with errors that say which member of which part is wrong.
private struct RecordObject {
    let value: JSONValue
    let part: String

    init(_ value: JSONValue?, _ part: String) throws(ContainerError) {
        guard let value, value.object != nil else {
            throw ContainerError(.systemError, "the record's \(part) is missing or not an object")
        }
        self.value = value
        self.part = part
    }

    func value(_ key: String) -> JSONValue? {
        guard let found = value[key], !found.isNull else { return nil }
        return found
    }

    func string(_ key: String) throws(ContainerError) -> String {
        guard let s = value(key)?.string else {
            throw ContainerError(.systemError, "the record's \(part).\(key) is missing or not a string")
        }
        return s
    }

    func int(_ key: String) -> Int? { value(key)?.int }

    func strings(_ key: String) -> [String] { value(key)?.array?.compactMap(\.string) ?? [] }
}
