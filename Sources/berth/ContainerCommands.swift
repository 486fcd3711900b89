import CommandLineParsing
import Containers
import JSON
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `berth ps`: the containers, Docker's columns.
struct ListContainers: BerthCommand {
    static let spec = CommandSpec(
        name: "ps", abstract: "List containers.",
        options: [
            .flag("all", short: "a", help: "Show all containers (default: only running ones)."),
            .repeatable("filter", short: "f", valueName: "filter",
                        help: "Only containers matching KEY=VALUE: status, name, label (KEY or KEY=VALUE), ancestor, id, exited."),
        ] + ListFormat.options(quietHelp: "Only show container ids."))

    let global: GlobalOptions
    let all: Bool
    let filter: ContainerFilter
    let format: ListFormat
    let noTrunc: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        do throws(ContainerError) {
            filter = try ContainerFilter(parsed.strings("filter"))
        } catch {
            throw UsageError(error.message)
        }
        all = parsed.flag("all") || filter.selectsStopped
        format = try ListFormat(parsed)
        noTrunc = parsed.flag("no-trunc")
        if let extra = parsed.positionals.first { throw UsageError("ps takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        let now = Int(time(nil))
        var table = Table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"])
        let templated = format.templateOutput(headers: ["ID": "CONTAINER ID", "RunningFor": "CREATED", "CreatedAt": "CREATED AT"])
        // Newest first, as Docker lists them.
        for record in engine.list().reversed() {
            let state = engine.state(of: record)
            guard all || state.isUp, filter.matches(record, state) else { continue }
            let id = noTrunc ? record.id : record.shortID
            let command = commandText(record)
            let status = engine.statusText(record, state: state, now: now)
            let ports = state.status == .running ? engine.portsText(record) : ""
            switch format {
            case .quiet:
                Output.print(id)
            case .json, .template:
                try emitRow(templated, [
                    ("ID", .string(id)), ("Image", .string(record.config.image)), ("Command", .string(command)),
                    ("CreatedAt", .string(record.created)), ("RunningFor", .string(Timestamp.ago(record.created, now: now))),
                    ("State", .string(state.statusName)), ("Status", .string(status)), ("Ports", .string(ports)),
                    ("Names", .string(record.name)), ("Labels", .string(labelsText(record))),
                    ("Mounts", .string(record.mounts.map { $0.name.isEmpty ? $0.source : $0.name }.joined(separator: ","))),
                    ("Networks", .string(record.hostConfig.networkMode)),
                    ("LocalVolumes", .string(String(record.mounts.count { $0.type == "volume" }))),
                ])
            case .table:
                table.add([id, record.config.image, command, Timestamp.ago(record.created, now: now), status, ports, record.name])
            }
        }
        templated?.finish()
        if format == .table { Output.print(table.render()) }
        return 0
    }

    /// Docker's `k=v,k2=v2` (here in the keys' order).
    private func labelsText(_ record: ContainerRecord) -> String {
        record.config.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// The command quoted, cut to 20 characters unless --no-trunc (Docker's form).
    private func commandText(_ record: ContainerRecord) -> String {
        let full = ([record.path] + record.args).joined(separator: " ")
        guard !noTrunc, full.count > 20 else { return "\"\(full)\"" }
        return "\"\(full.prefix(19))…\""
    }
}

/// `berth rm`: removes stopped containers (running ones too, killed first, with -f).
struct RemoveContainers: BerthCommand {
    static let spec = CommandSpec(
        name: "rm", abstract: "Remove one or more containers.", usage: "[OPTIONS] CONTAINER [CONTAINER...]",
        options: [
            .flag("force", short: "f", help: "Kill a running container first."),
            .flag("volumes", short: "v", help: "Remove the container's anonymous volumes too (named ones stay)."),
        ])

    let global: GlobalOptions
    let force: Bool
    let volumes: Bool
    let names: [String]

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        force = parsed.flag("force")
        volumes = parsed.flag("volumes")
        names = parsed.positionals
        if names.isEmpty { throw UsageError("rm needs at least one container name or id") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        return forEach(names) { name in try engine.remove(try engine.find(name), force: force, volumes: volumes) }
    }
}
