import BerthErrors
import Containers

/// Turns a Compose file's node tree (already interpolated) into a `ComposeModel`: every key
/// berth supports is read and checked, every other one is recorded in `ignored` for the one
/// warning line, and anything of the wrong type is an error naming the file, line and key.
struct ComposeDecoder {
    /// The file's name as errors show it.
    let file: String
    /// The file's directory: relative paths are taken from it.
    let directory: String
    let projectName: String
    /// The caller's environment with the `.env` file's under it: values for `environment`
    /// entries that name only a variable.
    let environment: [String: String]
    /// Keys berth does not support, as paths (`services.web.build`).
    var ignored: [String] = []

    static let topLevelKeys = ["services", "networks", "volumes", "name"]

    mutating func decode(_ root: YAMLNode) throws(BerthError) -> ComposeModel {
        let top = try fields(root, "", known: Self.topLevelKeys)
        var volumes: [VolumeDeclaration] = []
        for (key, node) in try entries(top["volumes"] ?? YAMLNode(.mapping([]), line: 1), "volumes") {
            volumes.append(try volume(key, node))
        }
        var networks: [NetworkDeclaration] = []
        for (key, node) in try entries(top["networks"] ?? YAMLNode(.mapping([]), line: 1), "networks") {
            networks.append(try network(key, node))
        }
        guard let servicesNode = top["services"] else {
            throw BerthError(.invalidArgument, "\(file):\(root.line): the file has no services: describe at least one under services:")
        }
        var services: [ServiceDefinition] = []
        for (key, node) in try entries(servicesNode, "services") {
            guard ServiceDefinition.isValidName(key) else {
                throw failure(node, "services.\(key)", "is not a valid service name: use letters, digits, '_', '.' and '-'")
            }
            services.append(try service(key, node, volumes: volumes, networks: networks))
        }
        if services.isEmpty { throw failure(servicesNode, "services", "is empty: describe at least one service") }
        try checkDependencies(services, servicesNode)
        if services.contains(where: { $0.network.name == "default" }), !networks.contains(where: { $0.key == "default" }) {
            networks.append(NetworkDeclaration(key: "default", name: projectName + "_default"))
        }
        return ComposeModel(services: services, networks: networks, volumes: volumes)
    }

    private mutating func volume(_ key: String, _ node: YAMLNode) throws(BerthError) -> VolumeDeclaration {
        let path = "volumes.\(key)"
        var declaration = VolumeDeclaration(key: key, name: projectName + "_" + key)
        if node.isNull { return declaration }
        let f = try fields(node, path, known: ["external", "name", "labels", "driver"])
        (declaration.external, declaration.name, declaration.labels) = try identity(key, f, path, projectName: declaration.name)
        if let driver = f["driver"], try string(driver, path + ".driver") != "local" {
            throw failure(driver, path + ".driver", "must be local: berth has no other volume driver")
        }
        return declaration
    }

    private mutating func network(_ key: String, _ node: YAMLNode) throws(BerthError) -> NetworkDeclaration {
        let path = "networks.\(key)"
        var declaration = NetworkDeclaration(key: key, name: projectName + "_" + key)
        if node.isNull { return declaration }
        let f = try fields(node, path, known: ["external", "name", "labels", "driver", "ipam"])
        (declaration.external, declaration.name, declaration.labels) = try identity(key, f, path, projectName: declaration.name)
        if let driver = f["driver"], try string(driver, path + ".driver") != "bridge" {
            throw failure(driver, path + ".driver", "must be bridge: berth's Compose makes bridge networks only")
        }
        if let ipam = f["ipam"] {
            let ipamFields = try fields(ipam, path + ".ipam", known: ["config"])
            if let config = ipamFields["config"] {
                guard let items = config.sequence else { throw failure(config, path + ".ipam.config", "must be a list") }
                for (index, item) in items.enumerated() {
                    let entry = try fields(item, "\(path).ipam.config[\(index)]", known: ["subnet"])
                    if let subnet = entry["subnet"] { declaration.subnet = try string(subnet, "\(path).ipam.config[\(index)].subnet") }
                }
            }
        }
        return declaration
    }

    /// A top-level volume's or network's `external`, its name on the host (`name:`, else the key
    /// when external, else `projectName`) and its labels.
    private mutating func identity(_ key: String, _ f: [String: YAMLNode], _ path: String,
                                   projectName: String) throws(BerthError) -> (Bool, String, [String: String]) {
        let external = try f["external"].map { node throws(BerthError) in try bool(node, path + ".external") } ?? false
        let name = try f["name"].map { node throws(BerthError) in try string(node, path + ".name") } ?? (external ? key : projectName)
        let labels = try f["labels"].map { node throws(BerthError) in try self.labels(node, path + ".labels") } ?? [:]
        return (external, name, labels)
    }

    /// Every dependency names a service of the file, and none leads back to itself.
    private func checkDependencies(_ services: [ServiceDefinition], _ node: YAMLNode) throws(BerthError) {
        for service in services {
            for dependency in service.dependsOn where !services.contains(where: { $0.name == dependency.service }) {
                let line = node[service.name]?["depends_on"]?.line ?? node.line
                throw BerthError(.invalidArgument, "\(file):\(line): services.\(service.name).depends_on names "
                                 + "\"\(dependency.service)\", which is not a service of the file")
            }
        }
        do {
            _ = try ComposeModel.startOrder(services)
        } catch {
            throw BerthError(.invalidArgument, "\(file): \(error.message)")
        }
    }
}

extension ServiceDefinition {
    /// Compose's rule for a service's name (it becomes part of container names and aliases).
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || ("0"..."9").contains(first)
        else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0))
        }
    }
}

extension ComposeModel {
    /// The services in an order where each comes after everything it depends on (the file's
    /// order otherwise); an error names a cycle.
    public static func startOrder(_ services: [ServiceDefinition]) throws(BerthError) -> [ServiceDefinition] {
        var done: [ServiceDefinition] = []
        var remaining = services
        // Each pass places at least one service, or there is a cycle: at most services.count passes.
        while !remaining.isEmpty {
            let ready = remaining.filter { service in
                service.dependsOn.allSatisfy { dependency in done.contains { $0.name == dependency.service }
                    || !services.contains { $0.name == dependency.service } }
            }
            guard !ready.isEmpty else {
                let names = remaining.map(\.name).joined(separator: ", ")
                throw BerthError(.invalidArgument, "depends_on makes a cycle among services \(names): break it")
            }
            done += ready
            remaining.removeAll { service in ready.contains { $0.name == service.name } }
        }
        return done
    }
}
