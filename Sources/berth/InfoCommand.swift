import CommandLineParsing
import Containers
import JSON
import Runtime

/// `berth info`: what this host offers berth and what berth holds, in `docker info`'s layout or
/// as one JSON object.
struct InfoCommand: BerthCommand {
    static let spec = CommandSpec(
        name: "info", abstract: "Show the host's kernel, cgroups, storage and security features, and the container and image counts.",
        options: [.value("format", short: "f", valueName: "format", help: "table or json.")])

    let global: GlobalOptions
    let json: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        switch parsed.string("format") ?? "table" {
        case "table": json = false
        case "json", "{{json .}}": json = true
        case let other: throw UsageError("unknown --format \"\(other)\": use table or json")
        }
        if let extra = parsed.positionals.first { throw UsageError("info takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        let info = engine.info()
        Output.print(json ? String(decoding: JSON.serialize(Self.json(info)), as: UTF8.self) : Self.text(info))
        return 0
    }

    static func text(_ info: HostInfo) -> String {
        func yesNo(_ support: HostInfo.Support) -> String { (support.available ? "yes" : "no") + " (\(support.detail))" }
        let available = info.cgroups.controllers.filter(\.isAvailable).map { controller in
            controller.note.map { "\(controller.name) (\($0))" } ?? controller.name
        }
        var pairs: [(String, String)] = [
            ("Containers", String(info.containers.total)),
            (" Running", String(info.containers.running)),
            (" Paused", String(info.containers.paused)),
            (" Stopped", String(info.containers.stopped)),
            ("Images", String(info.images)),
            ("Default Network", info.defaultNetwork),
            ("Storage Root", info.storageRoot),
            ("Storage Filesystem", info.storageFilesystem),
            ("Overlay", yesNo(info.overlay)),
            ("Run Root", info.runRoot),
            ("Cgroup Version", info.cgroups.layout.rawValue),
            ("Cgroup Controllers", available.isEmpty ? "none" : available.joined(separator: ", ")),
        ]
        for controller in info.cgroups.controllers {
            if let missing = controller.missing { pairs.append((" Missing \(controller.name)", missing)) }
        }
        pairs += [
            ("Seccomp", yesNo(info.seccomp)),
            ("User Namespaces", yesNo(info.userNamespaces)),
            ("Subordinate IDs", yesNo(info.subordinateIDs)),
            ("Kernel Version", info.kernelVersion),
            ("Operating System", info.operatingSystem),
            ("Architecture", info.architecture),
        ]
        return KeyValueLines.render(pairs)
    }

    /// Docker's key names where `docker info --format json` has one.
    static func json(_ info: HostInfo) -> JSONValue {
        func support(_ value: HostInfo.Support) -> JSONValue {
            .object([(key: "Supported", value: .bool(value.available)), (key: "Detail", value: .string(value.detail))])
        }
        let controllers: [JSONValue] = info.cgroups.controllers.map { controller in
            var fields: [(key: String, value: JSONValue)] = [
                (key: "Name", value: .string(controller.name)), (key: "Available", value: .bool(controller.isAvailable)),
            ]
            if let missing = controller.missing { fields.append((key: "Reason", value: .string(missing))) }
            if let note = controller.note { fields.append((key: "Note", value: .string(note))) }
            return .object(fields)
        }
        let version = info.cgroups.layout == .v2 ? "2" : "1"
        return .object([
            (key: "Containers", value: .number(JSONNumber(info.containers.total))),
            (key: "ContainersRunning", value: .number(JSONNumber(info.containers.running))),
            (key: "ContainersPaused", value: .number(JSONNumber(info.containers.paused))),
            (key: "ContainersStopped", value: .number(JSONNumber(info.containers.stopped))),
            (key: "Images", value: .number(JSONNumber(info.images))),
            (key: "DefaultNetwork", value: .string(info.defaultNetwork)),
            (key: "StorageRoot", value: .string(info.storageRoot)),
            (key: "StorageFilesystem", value: .string(info.storageFilesystem)),
            (key: "Overlay", value: support(info.overlay)),
            (key: "RunRoot", value: .string(info.runRoot)),
            (key: "CgroupVersion", value: .string(version)),
            (key: "CgroupLayout", value: .string(info.cgroups.layout.rawValue)),
            (key: "CgroupControllers", value: .array(controllers)),
            (key: "Seccomp", value: support(info.seccomp)),
            (key: "UserNamespaces", value: support(info.userNamespaces)),
            (key: "SubordinateIDs", value: support(info.subordinateIDs)),
            (key: "KernelVersion", value: .string(info.kernelVersion)),
            (key: "OperatingSystem", value: .string(info.operatingSystem)),
            (key: "Architecture", value: .string(info.architecture)),
            (key: "ServerVersion", value: .string(BerthVersion.version)),
        ])
    }
}
