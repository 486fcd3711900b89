import CommandLineParsing
import Containers
import JSON

/// `berth volume create`: a named volume (a generated name without one), as Docker's.
struct CreateVolume: BerthCommand {
    static let spec = CommandSpec(
        name: "create", abstract: "Create a volume.", usage: "[OPTIONS] [VOLUME]",
        options: [
            .repeatable("label", valueName: "label", help: "Set a label on the volume: KEY=VALUE."),
            .value("driver", short: "d", valueName: "driver", help: "Only local, the default."),
        ])

    let global: GlobalOptions
    let name: String?
    let labels: [(String, String)]

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count <= 1 else { throw UsageError("volume create takes at most one name") }
        name = parsed.positionals.first
        if let name, !VolumeName.isValid(name) {
            throw UsageError("invalid volume name \"\(name)\": use \(VolumeName.rule)")
        }
        if let driver = parsed.string("driver"), driver != "local" {
            throw UsageError("unknown volume driver \"\(driver)\": berth has only local")
        }
        var labels: [(String, String)] = []
        for label in parsed.strings("label") {
            let pair = label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard !pair[0].isEmpty else { throw UsageError("--label \"\(label)\" names no key: use KEY=VALUE") }
            labels.removeAll { $0.0 == pair[0] }
            labels.append((pair[0], pair.count == 2 ? pair[1] : ""))
        }
        self.labels = labels
    }

    func run() throws -> Int32 {
        let volume = try global.engine().createVolume(name, labels: labels)
        Output.print(volume.name)
        return 0
    }
}

/// `berth volume ls`.
struct ListVolumes: BerthCommand {
    static let spec = CommandSpec(
        name: "ls", abstract: "List volumes.",
        options: [
            .flag("quiet", short: "q", help: "Only show volume names."),
            .value("format", valueName: "format", help: "table or json (one object per line)."),
        ])

    let global: GlobalOptions
    let format: ListFormat

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        format = try ListFormat(parsed)
        if let extra = parsed.positionals.first { throw UsageError("volume ls takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.volumes.removeIncomplete()
        var table = Table(["DRIVER", "VOLUME NAME"])
        let templated = format.templateOutput(headers: ["Name": "VOLUME NAME"])
        for volume in engine.volumes.all() {
            switch format {
            case .quiet: Output.print(volume.name)
            case .json, .template:
                try emitRow(templated, [
                    ("Driver", .string(volume.driver)), ("Name", .string(volume.name)),
                    ("Mountpoint", .string(volume.mountpoint)), ("Scope", "local"),
                    ("Labels", .string(volume.labels.map { "\($0.0)=\($0.1)" }.joined(separator: ","))),
                ])
            case .table: table.add([volume.driver, volume.name])
            }
        }
        templated?.finish()
        if format == .table { Output.print(table.render()) }
        return 0
    }
}

/// `berth volume inspect`: Docker's JSON array.
struct InspectVolumes: BerthCommand {
    static let spec = CommandSpec(name: "inspect", abstract: "Show volumes as JSON.", usage: "VOLUME [VOLUME...]")

    let global: GlobalOptions
    let names: [String]

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        if names.isEmpty { throw UsageError("volume inspect needs at least one volume name") }
    }

    func run() throws -> Int32 {
        let volumes = try global.engine().volumes
        var found: [JSONValue] = []
        var failed = false
        for name in names {
            do {
                found.append(try volumes.find(name).json)
            } catch {
                Output.error(error)
                failed = true
            }
        }
        Output.print(String(decoding: JSON.serialize(.array(found), pretty: true), as: UTF8.self))
        return failed ? 1 : 0
    }
}

/// `berth volume rm`: refuses a volume any container uses, running or not (Docker's rule).
struct RemoveVolumes: BerthCommand {
    static let spec = CommandSpec(
        name: "rm", abstract: "Remove one or more volumes.", usage: "[OPTIONS] VOLUME [VOLUME...]",
        options: [.flag("force", short: "f", help: "Say nothing about a volume that does not exist (one in use is still kept).")])

    let global: GlobalOptions
    let force: Bool
    let names: [String]

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        force = parsed.flag("force")
        names = parsed.positionals
        if names.isEmpty { throw UsageError("volume rm needs at least one volume name") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        return forEach(names) { name in
            do {
                try engine.removeVolume(name)
            } catch let error as ContainerError where force && error.code == .notFound {
                // -f: a volume that is not there is already removed.
            }
        }
    }
}

/// `berth volume prune`: the volumes no container uses, anonymous ones only unless -a.
struct PruneVolumes: BerthCommand {
    static let spec = CommandSpec(
        name: "prune", abstract: "Remove the anonymous volumes no container uses.",
        options: [
            .flag("all", short: "a", help: "Remove every volume no container uses, named ones too."),
            .flag("force", short: "f", help: "Accepted for Docker's sake: berth does not ask for confirmation."),
        ])

    let global: GlobalOptions
    let all: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        all = parsed.flag("all")
        if let extra = parsed.positionals.first { throw UsageError("volume prune takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let report = try global.engine().pruneVolumes(all: all)
        if !report.removed.isEmpty {
            Output.print("Deleted Volumes:")
            for name in report.removed { Output.print(name) }
            Output.print("")
        }
        Output.print("Total reclaimed space: \(humanSize(report.reclaimedBytes))")
        return 0
    }
}
