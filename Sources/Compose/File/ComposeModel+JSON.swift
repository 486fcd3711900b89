import Containers
import JSON

/// The resolved model in Compose's own shape, for `compose config` and for each service's
/// config hash (the same text: what is printed is what is compared).
extension ComposeProject {
    public var json: JSONValue {
        var top: [(key: String, value: JSONValue)] = [("name", .string(name))]
        top.append(("services", .object(model.services.map { ($0.name, $0.json) })))
        top.append(("networks", .object(model.networks.map { network in
            var fields: [(key: String, value: JSONValue)] = [("name", .string(network.name))]
            if network.external { fields.append(("external", true)) }
            if let subnet = network.subnet { fields.append(("ipam", ["config": [["subnet": .string(subnet)]]])) }
            if !network.labels.isEmpty { fields.append(("labels", Self.object(network.labels))) }
            return (network.key, .object(fields))
        })))
        top.append(("volumes", .object(model.volumes.map { volume in
            var fields: [(key: String, value: JSONValue)] = [("name", .string(volume.name))]
            if volume.external { fields.append(("external", true)) }
            if !volume.labels.isEmpty { fields.append(("labels", Self.object(volume.labels))) }
            return (volume.key, .object(fields))
        })))
        return .object(top)
    }

    static func object(_ map: [String: String]) -> JSONValue {
        .object(map.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }
}

extension ServiceDefinition {
    /// The service as `compose config` prints it (keys in a fixed order, labels sorted).
    public var json: JSONValue {
        func strings(_ list: [String]) -> JSONValue { .array(list.map(JSONValue.string)) }
        var fields: [(key: String, value: JSONValue)] = [("image", .string(image))]
        if let build { fields.append(("build", build.json)) }
        if let command { fields.append(("command", strings(command))) }
        if let entrypoint { fields.append(("entrypoint", strings(entrypoint))) }
        if !environment.isEmpty { fields.append(("environment", strings(environment))) }
        if !envFiles.isEmpty { fields.append(("env_file", strings(envFiles))) }
        if !ports.isEmpty { fields.append(("ports", strings(ports))) }
        if !expose.isEmpty { fields.append(("expose", strings(expose))) }
        if !volumes.isEmpty {
            fields.append(("volumes", .array(volumes.map { mount in
                switch mount {
                case .volume(let name, let target, let readOnly, let noCopy):
                    var entry: [(key: String, value: JSONValue)] = [("type", "volume"), ("source", .string(name)), ("target", .string(target))]
                    if readOnly { entry.append(("read_only", true)) }
                    if noCopy { entry.append(("volume", ["nocopy": true])) }
                    return .object(entry)
                case .bind(let source, let target, let readOnly):
                    var entry: [(key: String, value: JSONValue)] = [("type", "bind"), ("source", .string(source)), ("target", .string(target))]
                    if readOnly { entry.append(("read_only", true)) }
                    return .object(entry)
                case .anonymous(let target): return ["type": "volume", "target": .string(target)]
                case .tmpfs(let target): return ["type": "tmpfs", "target": .string(target)]
                }
            })))
        }
        fields.append(("networks", .object([(network.name, network.aliases.isEmpty ? .null : ["aliases": strings(network.aliases)])])))
        if !dependsOn.isEmpty {
            fields.append(("depends_on", .object(dependsOn.map { ($0.service, ["condition": .string($0.condition.rawValue)]) })))
        }
        if let healthcheck {
            var check: [(key: String, value: JSONValue)] = [("test", strings(healthcheck.test))]
            for (key, value) in [("interval", healthcheck.interval), ("timeout", healthcheck.timeout),
                                 ("start_period", healthcheck.startPeriod)] where value > 0 {
                check.append((key, .string(GoDuration.describe(value))))
            }
            if healthcheck.retries > 0 { check.append(("retries", .number(JSONNumber(healthcheck.retries)))) }
            fields.append(("healthcheck", .object(check)))
        }
        if let restart {
            let text = restart.maximumRetryCount > 0 ? "\(restart.name):\(restart.maximumRetryCount)" : restart.name
            fields.append(("restart", .string(text)))
        }
        if let stopSignal { fields.append(("stop_signal", .string(stopSignal))) }
        if let stopGracePeriod { fields.append(("stop_grace_period", .string(GoDuration.describe(stopGracePeriod)))) }
        fields.append(("deploy", ["replicas": .number(JSONNumber(replicas))]))
        if !labels.isEmpty { fields.append(("labels", ComposeProject.object(labels))) }
        for (key, value) in [("working_dir", workingDir), ("user", user), ("hostname", hostname), ("cgroup_parent", cgroupParent)] {
            if let value { fields.append((key, .string(value))) }
        }
        if initProcess { fields.append(("init", true)) }
        if readOnly { fields.append(("read_only", true)) }
        if berth != BerthSettings() {
            var extensionFields: [(key: String, value: JSONValue)] = []
            if let port = berth.port { extensionFields.append(("port", .number(JSONNumber(port)))) }
            if let proxy = berth.proxy {
                extensionFields.append(("proxy", [
                    "listen": .string("\(proxy.listenHost):\(proxy.listenPort)"),
                    "backups": .number(JSONNumber(proxy.backups)),
                    "health_path": .string(proxy.healthPath),
                ]))
            }
            fields.append(("x-berth", .object(extensionFields)))
        }
        return .object(fields)
    }
}

extension ServiceBuild {
    /// The section in its long form, as `compose config` prints it.
    public var json: JSONValue {
        var fields: [(key: String, value: JSONValue)] = [("context", .string(context))]
        if let dockerfile { fields.append(("dockerfile", .string(dockerfile))) }
        if let dockerfileInline { fields.append(("dockerfile_inline", .string(dockerfileInline))) }
        if !args.isEmpty { fields.append(("args", ComposeProject.object(args))) }
        if let target { fields.append(("target", .string(target))) }
        if !labels.isEmpty { fields.append(("labels", ComposeProject.object(labels))) }
        if !tags.isEmpty { fields.append(("tags", .array(tags.map(JSONValue.string)))) }
        if noCache { fields.append(("no_cache", true)) }
        if let network { fields.append(("network", .string(network))) }
        return .object(fields)
    }
}
