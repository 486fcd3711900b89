import BerthErrors
import Containers

/// One entry of `services`, key by key.
extension ComposeDecoder {
    static let serviceKeys = [
        "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "expose", "volumes", "networks",
        "depends_on", "healthcheck", "restart", "stop_signal", "stop_grace_period", "deploy", "labels",
        "working_dir", "user", "hostname", "cgroup_parent", "init", "read_only", "x-berth",
    ]

    mutating func service(_ name: String, _ node: YAMLNode, volumes: [VolumeDeclaration],
                          networks: [NetworkDeclaration]) throws(BerthError) -> ServiceDefinition {
        let path = "services.\(name)"
        let f = try fields(node, path, known: Self.serviceKeys)
        let build = try f["build"].map { (node) throws(BerthError) in try self.build(node, path + ".build") }
        let image: String
        if let imageNode = f["image"] {
            image = try string(imageNode, path + ".image")
        } else if build != nil {
            image = projectName + "-" + name.lowercased()
        } else {
            throw failure(node, path, "has no image: name the image to run, or give it a build: section")
        }
        var service = ServiceDefinition(name: name, image: image)
        service.build = build
        if let node = f["command"] { service.command = try command(node, path + ".command") }
        if let node = f["entrypoint"] { service.entrypoint = try command(node, path + ".entrypoint") }
        var environment: [(String, String)] = []
        if let node = f["env_file"] {
            for file in try stringOrList(node, path + ".env_file") {
                let absolute = hostPath(file)
                service.envFiles.append(absolute)
                do {
                    environment += try EnvironmentFile.read(absolute)
                } catch {
                    throw failure(node, path + ".env_file", "names \(file), which cannot be read: \(error.message)")
                }
            }
        }
        if let node = f["environment"] {
            for (key, value) in try keyValues(node, path + ".environment") {
                guard let value = value ?? self.environment[key] else { continue }
                environment.append((key, value))
            }
        }
        var seen: Set<String> = []
        for (key, value) in environment.reversed() where seen.insert(key).inserted {
            service.environment.insert("\(key)=\(value)", at: 0)
        }
        if let node = f["ports"] { service.ports = try ports(node, path + ".ports") }
        if let node = f["expose"] {
            guard let items = node.sequence else { throw failure(node, path + ".expose", "must be a list") }
            for (index, item) in items.enumerated() { service.expose.append(try string(item, "\(path).expose[\(index)]")) }
        }
        if let node = f["volumes"] { service.volumes = try mounts(node, path + ".volumes", declared: volumes) }
        if let node = f["networks"] { service.network = try serviceNetwork(node, path + ".networks", declared: networks) }
        if let node = f["depends_on"] { service.dependsOn = try dependencies(node, path + ".depends_on") }
        if let node = f["healthcheck"] { service.healthcheck = try healthcheck(node, path + ".healthcheck") }
        if let node = f["restart"] {
            guard let policy = RestartPolicy.parse(try string(node, path + ".restart")) else {
                throw failure(node, path + ".restart", "must be no, always, on-failure[:N] or unless-stopped")
            }
            service.restart = policy
        }
        if let node = f["stop_signal"] {
            let signal = try string(node, path + ".stop_signal")
            guard SignalName.number(signal) != nil else { throw failure(node, path + ".stop_signal", "names no signal (\(signal))") }
            service.stopSignal = signal
        }
        if let node = f["stop_grace_period"] { service.stopGracePeriod = try duration(node, path + ".stop_grace_period") }
        if let node = f["deploy"] {
            let deploy = try fields(node, path + ".deploy", known: ["replicas"])
            if let replicas = deploy["replicas"] { service.replicas = try int(replicas, path + ".deploy.replicas", atMost: 1000) }
        }
        if let node = f["labels"] { service.labels = try labels(node, path + ".labels") }
        if let node = f["working_dir"] { service.workingDir = try string(node, path + ".working_dir") }
        if let node = f["user"] { service.user = try string(node, path + ".user") }
        if let node = f["hostname"] { service.hostname = try string(node, path + ".hostname") }
        if let node = f["cgroup_parent"] { service.cgroupParent = try string(node, path + ".cgroup_parent") }
        if let node = f["init"] { service.initProcess = try bool(node, path + ".init") }
        if let node = f["read_only"] { service.readOnly = try bool(node, path + ".read_only") }
        if let node = f["x-berth"] { service.berth = try berthSettings(node, path + ".x-berth") }
        return service
    }

    /// `ports`: "[ip:][host:]container[/proto]" strings (or numbers), or long-syntax mappings.
    private mutating func ports(_ node: YAMLNode, _ path: String) throws(BerthError) -> [String] {
        guard let items = node.sequence else { throw failure(node, path, "must be a list") }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            if item.mapping != nil {
                let f = try fields(item, itemPath, known: ["target", "published", "host_ip", "protocol", "mode"])
                guard let target = f["target"] else { throw failure(item, itemPath, "has no target: the container's port") }
                var text = String(try int(target, itemPath + ".target", atLeast: 1, atMost: 65535))
                if let published = f["published"] { text = try string(published, itemPath + ".published") + ":" + text }
                if let hostIP = f["host_ip"] {
                    text = try string(hostIP, itemPath + ".host_ip") + ":" + (f["published"] == nil ? ":" : "") + text
                }
                if let proto = f["protocol"] { text += "/" + (try string(proto, itemPath + ".protocol")) }
                result.append(text)
            } else {
                let text = try string(item, itemPath)
                guard Self.isPortSpec(text) else {
                    throw failure(item, itemPath, "\"\(text)\" is not a port: use [ip:][host:]container[/tcp|udp]")
                }
                result.append(text)
            }
        }
        return result
    }

    /// The container's part of a short-syntax port (the last one): a port or range, a protocol.
    static func isPortSpec(_ text: String) -> Bool {
        let lastPart = text.split(separator: ":", omittingEmptySubsequences: false).last ?? ""
        let parts = lastPart.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, parts[1] != "tcp", parts[1] != "udp" { return false }
        let range = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        return (1...2).contains(range.count) && range.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && Int($0) != nil }
    }

    /// `volumes`: short syntax "SOURCE:TARGET[:ro]" or "TARGET", or long-syntax mappings.
    private mutating func mounts(_ node: YAMLNode, _ path: String,
                                 declared: [VolumeDeclaration]) throws(BerthError) -> [ServiceMount] {
        guard let items = node.sequence else { throw failure(node, path, "must be a list") }
        var result: [ServiceMount] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            let mount = item.mapping != nil
                ? try longMount(item, itemPath)
                : try shortMount(item, itemPath)
            if case .volume(let name, _, _, _) = mount, !declared.contains(where: { $0.key == name }) {
                throw failure(item, itemPath, "names volume \"\(name)\", which the top-level volumes do not declare: "
                              + "add it there")
            }
            guard mount.target.hasPrefix("/") else {
                throw failure(item, itemPath, "mounts at \"\(mount.target)\": the path in the container must be absolute")
            }
            result.append(mount)
        }
        return result
    }

    private func shortMount(_ item: YAMLNode, _ path: String) throws(BerthError) -> ServiceMount {
        let text = try string(item, path)
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw failure(item, path, "\"\(text)\" is not a volume: use SOURCE:TARGET[:ro] or TARGET")
        }
        if parts.count == 1 { return .anonymous(target: parts[0]) }
        var readOnly = false, noCopy = false
        if parts.count == 3 {
            for mode in parts[2].split(separator: ",") {
                switch mode {
                case "ro": readOnly = true
                case "rw": readOnly = false
                case "nocopy": noCopy = true
                default: throw failure(item, path, "has the mode \"\(mode)\": use ro, rw or nocopy")
                }
            }
        }
        let source = parts[0]
        if source.hasPrefix("/") || source.hasPrefix(".") || source.hasPrefix("~") {
            return .bind(source: hostPath(source), target: parts[1], readOnly: readOnly)
        }
        return .volume(name: source, target: parts[1], readOnly: readOnly, noCopy: noCopy)
    }

    private mutating func longMount(_ item: YAMLNode, _ path: String) throws(BerthError) -> ServiceMount {
        let f = try fields(item, path, known: ["type", "source", "target", "read_only", "volume", "bind"])
        guard let typeNode = f["type"] else { throw failure(item, path, "has no type: use volume, bind or tmpfs") }
        guard let targetNode = f["target"] else { throw failure(item, path, "has no target: the path in the container") }
        let target = try string(targetNode, path + ".target")
        let readOnly = try f["read_only"].map { (node) throws(BerthError) in try bool(node, path + ".read_only") } ?? false
        let source = try f["source"].map { (node) throws(BerthError) in try string(node, path + ".source") }
        switch try string(typeNode, path + ".type") {
        case "volume":
            var noCopy = false
            if let options = f["volume"] {
                let o = try fields(options, path + ".volume", known: ["nocopy"])
                if let node = o["nocopy"] { noCopy = try bool(node, path + ".volume.nocopy") }
            }
            guard let source else { return .anonymous(target: target) }
            return .volume(name: source, target: target, readOnly: readOnly, noCopy: noCopy)
        case "bind":
            if let options = f["bind"] { _ = try fields(options, path + ".bind", known: []) }
            guard let source else { throw failure(item, path, "is a bind with no source: name the host path") }
            return .bind(source: hostPath(source), target: target, readOnly: readOnly)
        case "tmpfs":
            return .tmpfs(target: target)
        default:
            throw failure(typeNode, path + ".type", "must be volume, bind or tmpfs")
        }
    }

    /// `networks`: a list of names, or a mapping of names to `{aliases: [...]}`.
    private mutating func serviceNetwork(_ node: YAMLNode, _ path: String,
                                         declared: [NetworkDeclaration]) throws(BerthError) -> ServiceNetwork {
        var chosen: [(String, [String], YAMLNode)] = []
        if let items = node.sequence {
            for (index, item) in items.enumerated() { chosen.append((try string(item, "\(path)[\(index)]"), [], item)) }
        } else if let entries = node.mapping {
            for (name, value) in entries {
                var aliases: [String] = []
                if !value.isNull {
                    let f = try fields(value, path + "." + name, known: ["aliases"])
                    if let node = f["aliases"] { aliases = try strings(node, path + "." + name + ".aliases") }
                }
                chosen.append((name, aliases, value))
            }
        } else {
            throw failure(node, path, "must be a list or a mapping")
        }
        guard chosen.count == 1, let (name, aliases, item) = chosen.first else {
            throw BerthError(.unsupported, "\(file):\(node.line): \(path) names \(chosen.count) networks: berth joins a "
                             + "container to exactly one network; keep one")
        }
        guard name == "default" || declared.contains(where: { $0.key == name }) else {
            throw failure(item, path, "names network \"\(name)\", which the top-level networks do not declare: add it there")
        }
        return ServiceNetwork(name: name, aliases: aliases)
    }

    /// `depends_on`: a list of services, or a mapping of services to `{condition: ...}`.
    private mutating func dependencies(_ node: YAMLNode, _ path: String) throws(BerthError) -> [Dependency] {
        if node.sequence != nil { return try strings(node, path).map { Dependency(service: $0, condition: .started) } }
        guard let entries = node.mapping else { throw failure(node, path, "must be a list or a mapping") }
        var result: [Dependency] = []
        for (name, value) in entries {
            var condition = Dependency.Condition.started
            if !value.isNull {
                let f = try fields(value, path + "." + name, known: ["condition"])
                if let node = f["condition"] {
                    let text = try string(node, path + "." + name + ".condition")
                    guard let known = Dependency.Condition(rawValue: text) else {
                        throw failure(node, path + "." + name + ".condition",
                                      "must be service_started or service_healthy (got \(text))")
                    }
                    condition = known
                }
            }
            result.append(Dependency(service: name, condition: condition))
        }
        return result
    }

    /// `healthcheck`: test as a string (run by a shell) or a list (CMD, CMD-SHELL or NONE), and
    /// Go durations.
    private mutating func healthcheck(_ node: YAMLNode, _ path: String) throws(BerthError) -> HealthCheck {
        let f = try fields(node, path, known: ["test", "interval", "timeout", "start_period", "retries", "disable"])
        if let disable = f["disable"], try bool(disable, path + ".disable") { return HealthCheck(test: ["NONE"]) }
        var check = HealthCheck(test: [])
        if let test = f["test"] {
            if test.sequence != nil {
                check.test = try strings(test, path + ".test")
                guard let kind = check.test.first, ["CMD", "CMD-SHELL", "NONE"].contains(kind) else {
                    throw failure(test, path + ".test", "must start with CMD, CMD-SHELL or NONE")
                }
                if kind != "NONE", check.test.count < 2 { throw failure(test, path + ".test", "names no command after \(kind)") }
            } else {
                check.test = ["CMD-SHELL", try string(test, path + ".test")]
            }
        }
        if let node = f["interval"] { check.interval = try duration(node, path + ".interval") }
        if let node = f["timeout"] { check.timeout = try duration(node, path + ".timeout") }
        if let node = f["start_period"] { check.startPeriod = try duration(node, path + ".start_period") }
        if let node = f["retries"] { check.retries = try int(node, path + ".retries", atLeast: 1) }
        return check
    }

    /// `x-berth`: the app's port and its proxy.
    private mutating func berthSettings(_ node: YAMLNode, _ path: String) throws(BerthError) -> BerthSettings {
        let f = try fields(node, path, known: ["port", "proxy"])
        var settings = BerthSettings()
        if let port = f["port"] { settings.port = try int(port, path + ".port", atLeast: 1, atMost: 65535) }
        if let proxyNode = f["proxy"] {
            let p = try fields(proxyNode, path + ".proxy", known: ["listen", "backups", "health_path"])
            guard let listen = p["listen"] else {
                throw failure(proxyNode, path + ".proxy", "has no listen: the address HAProxy takes requests on, e.g. \"127.0.0.1:8080\"")
            }
            let text = try string(listen, path + ".proxy.listen")
            let hostPart = text.contains(":") ? String(text[..<(text.lastIndex(of: ":") ?? text.endIndex)]) : "0.0.0.0"
            let portPart = text.contains(":") ? String(text[text.index(after: text.lastIndex(of: ":") ?? text.startIndex)...]) : text
            guard let port = Int(portPart), (1...65535).contains(port), !hostPart.isEmpty else {
                throw failure(listen, path + ".proxy.listen", "\"\(text)\" is not HOST:PORT or PORT")
            }
            var proxy = ProxySettings(listenHost: hostPart, listenPort: port)
            if let node = p["backups"] { proxy.backups = try int(node, path + ".proxy.backups", atMost: 1000) }
            if let node = p["health_path"] {
                proxy.healthPath = try string(node, path + ".proxy.health_path")
                guard proxy.healthPath.hasPrefix("/") else {
                    throw failure(node, path + ".proxy.health_path", "must be a path starting with /")
                }
            }
            guard settings.port != nil else {
                throw failure(proxyNode, path + ".proxy", "needs \(path).port: the app's port inside the container")
            }
            settings.proxy = proxy
        }
        return settings
    }
}
