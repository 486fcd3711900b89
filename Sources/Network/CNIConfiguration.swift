import JSON
#if canImport(Glibc)
import Glibc
#endif

/// A CNI network configuration list (`.conflist`, or a single plugin's `.conf`), checked once
/// when the network is created: its version and name, and the plugins to run in order. What a
/// container's ADD and DEL send each plugin is derived from it (`stdin(for:...)`).
struct CNIConfiguration {
    /// One plugin of the list: its executable's name, its own configuration as written, and the
    /// capabilities it asks the runtime to fill in (`runtimeConfig`).
    struct Plugin {
        var type: String
        var config: JSONValue
        var capabilities: Set<String>
        /// The IPAM plugin it delegates to (`ipam.type`): its executable must exist too.
        var ipamType: String?
    }

    var cniVersion: String
    var name: String
    var plugins: [Plugin]
    /// The list's `disableCheck`: its plugins' CHECK is known to fail spuriously, so it is not run.
    var disableCheck = false
    /// The file as given, kept in the network's directory.
    var text: [UInt8]

    /// The copy of the file in the network's directory.
    static let fileName = "cni.conflist"

    /// Where plugins are looked for: `BERTH_CNI_PATH` (':'-separated), else Debian's and the
    /// upstream release's directories.
    static var pluginDirectories: [String] {
        if let value = getenv("BERTH_CNI_PATH").map({ String(cString: $0) }), !value.isEmpty {
            return value.split(separator: ":").map(String.init)
        }
        return ["/usr/lib/cni", "/opt/cni/bin"]
    }

    /// The executable `type` names in the plugin directories, or nil.
    static func pluginPath(_ type: String, in directories: [String] = pluginDirectories) -> String? {
        guard !type.isEmpty, !type.contains("/"), type != ".", type != ".." else { return nil }
        return directories.lazy.map { $0 + "/" + type }.first { access($0, X_OK) == 0 }
    }

    /// Parses and checks a conflist (or a single plugin's conf); `file` names it in errors.
    static func parse(_ bytes: [UInt8], file: String) throws -> CNIConfiguration {
        func bad(_ why: String) -> NetworkError {
            NetworkError(.invalidArgument, "\(file) is not a CNI network configuration: \(why)")
        }
        let root: JSONValue
        do {
            root = try JSON.parse(bytes)
        } catch {
            throw bad("\(error.message)\(error.location.map { " at line \($0.line) column \($0.column)" } ?? "")")
        }
        guard root.object != nil else { throw bad("it is not a JSON object") }
        guard let version = root["cniVersion"]?.string, !version.isEmpty else { throw bad("it has no \"cniVersion\"") }
        guard let name = root["name"]?.string, NetworkDefinition.isValidName(name) else {
            throw bad("its \"name\" is missing or not a network name (letters, digits, '_', '.', '-')")
        }
        let objects: [JSONValue]
        if let list = root["plugins"] {
            guard let array = list.array, !array.isEmpty else { throw bad("\"plugins\" is not a list of plugins") }
            objects = array
        } else if root["type"] != nil {
            objects = [root]   // a single plugin's .conf
        } else {
            throw bad("it has neither \"plugins\" nor a plugin \"type\"")
        }
        var plugins: [Plugin] = []
        for (index, object) in objects.enumerated() {
            guard object.object != nil, let type = object["type"]?.string, !type.isEmpty else {
                throw bad("plugin \(index + 1) has no \"type\"")
            }
            var capabilities: Set<String> = []
            for (key, value) in object["capabilities"]?.object ?? [] where value.bool == true { capabilities.insert(key) }
            let ipamType = object["ipam"]?["type"]?.string
            plugins.append(Plugin(type: type, config: object, capabilities: capabilities, ipamType: ipamType))
        }
        let disableCheck = root["disableCheck"]?.bool == true || root["disableCheck"]?.string == "true"
        return CNIConfiguration(cniVersion: version, name: name, plugins: plugins, disableCheck: disableCheck, text: bytes)
    }

    /// Every plugin executable the list needs (IPAM plugins too) that is not in `directories`.
    func missingPlugins(in directories: [String] = pluginDirectories) -> [String] {
        var missing: [String] = []
        for type in plugins.flatMap({ [$0.type] + ($0.ipamType.map { [$0] } ?? []) })
        where Self.pluginPath(type, in: directories) == nil && !missing.contains(type) {
            missing.append(type)
        }
        return missing
    }

    /// The first plugin's IPAM subnet and gateway when it states them (host-local's `subnet` or
    /// its first range), else empty: what `network inspect` shows and other networks avoid.
    var addressing: (subnet: String, gateway: String) {
        for plugin in plugins {
            guard let ipam = plugin.config["ipam"] else { continue }
            let range = ipam["ranges"]?[0]?[0] ?? ipam
            if let subnet = range["subnet"]?.string, IPv4Subnet(subnet) != nil {
                let gateway = range["gateway"]?.string.flatMap { IPv4Address($0) != nil ? $0 : nil } ?? ""
                return (subnet, gateway)
            }
        }
        return ("", "")
    }

    /// The bridge device a `bridge` plugin names, for `network inspect`.
    var bridgeName: String {
        plugins.first { $0.type == "bridge" }?.config["bridge"]?.string ?? ""
    }

    var mtu: Int {
        plugins.lazy.compactMap { $0.config["mtu"]?.int }.first ?? 1500
    }

    /// What plugin `index` reads on stdin: its configuration with the list's name and version,
    /// the previous result (chaining), and the runtime's values for the capabilities it declares.
    func stdin(for index: Int, previousResult: JSONValue?, runtimeConfig: [(key: String, value: JSONValue)]) -> [UInt8] {
        let plugin = plugins[index]
        let replaced: Set<String> = ["cniVersion", "name", "prevResult", "runtimeConfig"]
        var fields: [(key: String, value: JSONValue)] = [(key: "cniVersion", value: .string(cniVersion)),
                                                         (key: "name", value: .string(name))]
        fields += (plugin.config.object ?? []).filter { !replaced.contains($0.key) }
        let offered = runtimeConfig.filter { plugin.capabilities.contains($0.key) }
        if !offered.isEmpty { fields.append((key: "runtimeConfig", value: .object(offered))) }
        if let previousResult { fields.append((key: "prevResult", value: previousResult)) }
        return JSON.serialize(.object(fields))
    }
}
