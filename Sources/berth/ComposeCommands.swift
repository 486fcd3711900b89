import CommandLineParsing
import Compose
import Containers
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// `berth compose`'s own options (`-f FILE`, `-p NAME`), given between `compose` and its
/// command, as Docker Compose takes them.
struct ComposeOptions: Sendable {
    static let options: [OptionSpec] = [
        .value("file", short: "f", valueName: "file",
               help: "The Compose file (default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml)."),
        .value("project-name", short: "p", valueName: "name", help: "The project's name (default: the file's name: or its directory's)."),
    ]

    /// berth compose's spec: its options and the commands below it.
    static var spec: CommandSpec {
        var subcommands: [CommandSpec] = []
        for (path, type) in Berth.commands where path.hasPrefix("compose ") {
            subcommands.append(type.spec.named(String(path.dropFirst("compose ".count))))
        }
        return CommandSpec(name: "compose", abstract: "Run a Compose project: services, networks and volumes from one file.",
                           usage: "[OPTIONS] COMMAND", options: options, subcommands: subcommands)
    }

    var file: String?
    var projectName: String?

    init() {}

    init(_ parsed: ParsedArguments) {
        file = parsed.string("file")
        projectName = parsed.string("project-name")
    }

    /// The project, read and checked; its warnings (ignored keys, unset variables) go to stderr.
    /// With `byNameAlone`, `-p NAME` where no Compose file is found is the project of that
    /// name (Docker Compose's `-p NAME down`).
    func load(byNameAlone: Bool = false) throws -> ComposeProject {
        guard let cwd = getcwd(nil, 0) else { throw ContainerError.system("cannot read the current directory") }
        let workingDirectory = String(cString: cwd)
        free(cwd)
        if byNameAlone, file == nil, let projectName,
           !ComposeProject.defaultFileNames.contains(where: { access(workingDirectory + "/" + $0, F_OK) == 0 }) {
            return try ComposeProject.named(projectName, workingDirectory: workingDirectory)
        }
        let project = try ComposeProject.load(file: file, projectName: projectName,
                                              workingDirectory: workingDirectory,
                                              environment: ComposeProject.processEnvironment())
        for warning in project.warnings { Output.error("warning: " + warning) }
        return project
    }
}

/// A command below `berth compose`: it gets compose's own options too.
protocol ComposeCommand: BerthCommand {
    init(global: GlobalOptions, compose: ComposeOptions, _ parsed: ParsedArguments) throws(UsageError)
}

extension ComposeCommand {
    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        try self.init(global: global, compose: ComposeOptions(), parsed)
    }

    /// A malformed file is bad input: Docker's 125, as for a bad flag.
    static var failureCode: Int32 { 125 }

    func composeEngine(_ global: GlobalOptions, _ compose: ComposeOptions, byNameAlone: Bool = false) throws -> ComposeEngine {
        let project = try compose.load(byNameAlone: byNameAlone)
        let engine = try global.engine()
        engine.tidy()
        return ComposeEngine(project: project, engine: engine)
    }
}

/// What `up` and `down` say as they go, on stderr as Docker Compose says it.
private func progressLine(_ line: String) { Output.writeLine(STDERR_FILENO, " \u{2714} " + line) }

/// `berth compose up`.
struct ComposeUp: ComposeCommand {
    static let spec = CommandSpec(
        name: "up", abstract: "Create and start the project's networks, volumes and services.",
        discussion: """
            Services start in depends_on order; one that depends on another with condition: service_healthy \
            waits until that one's health check passes. A service with a build: section has its image built \
            first when it is missing (always with --build). Running instances whose configuration is the file's \
            are kept, changed ones are replaced, and deploy.replicas sets how many run. Without -d, up then \
            prints the services' output until they end, or until Ctrl-C, which stops them.
            """,
        usage: "[OPTIONS] [SERVICE...]",
        options: [
            .flag("detach", short: "d", help: "Return once the services run, and leave them running."),
            .flag("build", help: "Build the images of services with a build: section first, also those that exist."),
            .flag("no-build", help: "Build no image, not even a missing one."),
        ])

    let global: GlobalOptions
    let compose: ComposeOptions
    let detach: Bool
    let services: [String]
    let buildPolicy: ComposeEngine.BuildPolicy

    init(global: GlobalOptions, compose: ComposeOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        self.compose = compose
        detach = parsed.flag("detach")
        services = parsed.positionals
        switch (parsed.flag("build"), parsed.flag("no-build")) {
        case (true, true): throw UsageError("compose up takes --build or --no-build, not both")
        case (true, false): buildPolicy = .always
        case (false, true): buildPolicy = .never
        case (false, false): buildPolicy = .whenMissing
        }
    }

    func run() throws -> Int32 {
        let compose = try composeEngine(global, compose)
        let chosen = try compose.selected(services)
        try ComposeBuilds.run(try compose.servicesToBuild(chosen.map(\.name), policy: buildPolicy), of: compose)
        try compose.up(services, progress: progressLine)
        if detach { return 0 }
        let instances = try compose.attachedInstances(of: chosen)
        if ComposeAttachment.attach(InstanceLogs(instances, engine: compose.engine, prefixed: true)) {
            Output.writeLine(STDERR_FILENO, "Gracefully stopping... (the services' stop_grace_period, then SIGKILL)")
            try compose.stop(chosen, progress: progressLine)
        }
        return 0
    }
}

/// `berth compose down`.
struct ComposeDown: ComposeCommand {
    static let spec = CommandSpec(
        name: "down", abstract: "Stop and remove the project's containers and networks.",
        options: [.flag("volumes", short: "v", help: "Remove the project's named volumes and its containers' anonymous ones too.")])

    let global: GlobalOptions
    let compose: ComposeOptions
    let volumes: Bool

    init(global: GlobalOptions, compose: ComposeOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        self.compose = compose
        volumes = parsed.flag("volumes")
        if let extra = parsed.positionals.first { throw UsageError("compose down takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        try composeEngine(global, compose, byNameAlone: true).down(removingVolumes: volumes, progress: progressLine)
        return 0
    }
}

/// `berth compose ps`.
struct ComposePs: ComposeCommand {
    static let spec = CommandSpec(
        name: "ps", abstract: "List the project's containers.", usage: "[OPTIONS] [SERVICE...]",
        options: [
            .flag("all", short: "a", help: "Stopped containers too."),
            .flag("quiet", short: "q", help: "Only the ids."),
            .value("format", valueName: "format", help: "table or json (one object per line)."),
        ])

    let global: GlobalOptions
    let compose: ComposeOptions
    let all: Bool
    let quiet: Bool
    let json: Bool
    let services: [String]

    init(global: GlobalOptions, compose: ComposeOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        self.compose = compose
        all = parsed.flag("all")
        quiet = parsed.flag("quiet")
        switch parsed.string("format") ?? "table" {
        case "table": json = false
        case "json": json = true
        case let other: throw UsageError("unknown --format \"\(other)\": use table or json")
        }
        services = parsed.positionals
    }

    func run() throws -> Int32 {
        let compose = try composeEngine(global, compose, byNameAlone: true)
        let engine = compose.engine
        let now = Int(time(nil))
        let proxied = try compose.proxiedInstances(of: services)
        // The proxy's columns only when the project has a proxied service.
        var table = Table(proxied.isEmpty ? ["SERVICE", "NAME", "IMAGE", "STATUS", "PORTS"]
                                          : ["SERVICE", "NAME", "ROLE", "IMAGE", "STATUS", "PROXY", "SESSIONS", "PORTS"])
        for slot in proxied {
            guard let record = slot.record else { continue }
            let state = engine.state(of: record)
            guard all || state.status == .running else { continue }
            let status = engine.statusText(record, state: state, now: now)
            // A standby is a stopped instance of the version before the last deploy, kept for
            // the rollback: shown with -a, as any stopped container.
            let role = slot.standby ? "standby" : slot.backup ? "backup" : "active"
            if quiet {
                Output.print(record.id)
            } else if json {
                Output.jsonLine([
                    ("ID", .string(record.id)), ("Name", .string(record.name)),
                    ("Image", .string(slot.image ?? record.config.image)), ("Service", .string(slot.service)),
                    ("Slot", .string(slot.server)), ("Role", .string(role)),
                    ("State", .string(state.statusName)), ("Status", .string(status)),
                    ("Health", .string(engine.health(of: record, state: state)?.status.rawValue ?? "")),
                    ("Proxy", .string(slot.proxyStatus ?? "")), ("Sessions", .number(JSONNumber(slot.sessions))),
                ])
            } else {
                table.add([slot.service, record.name, role, slot.image ?? record.config.image, status, slot.proxyStatus ?? "-",
                           String(slot.sessions), ""])
            }
        }
        for instance in compose.instances(of: services) {
            let record = instance.record
            let state = engine.state(of: record)
            guard all || state.status == .running else { continue }
            let status = engine.statusText(record, state: state, now: now)
            let ports = engine.portsText(record)
            if quiet {
                Output.print(record.id)
            } else if json {
                Output.jsonLine([
                    ("ID", .string(record.id)), ("Name", .string(record.name)), ("Image", .string(record.config.image)),
                    ("Service", .string(instance.service)), ("Number", .number(JSONNumber(instance.number))),
                    ("State", .string(state.statusName)), ("Status", .string(status)),
                    ("Health", .string(engine.health(of: record, state: state)?.status.rawValue ?? "")),
                    ("Publishers", .string(ports)),
                ])
            } else {
                table.add(proxied.isEmpty ? [instance.service, record.name, record.config.image, status, ports]
                                          : [instance.service, record.name, "", record.config.image, status, "", "", ports])
            }
        }
        if !quiet && !json { Output.print(table.render()) }
        return 0
    }
}

/// `berth compose config`: the file as berth resolved it.
struct ComposeConfig: ComposeCommand {
    static let spec = CommandSpec(
        name: "config", abstract: "Print the project as berth reads it: variables substituted, paths absolute, names resolved (JSON).",
        options: [.flag("services", help: "Only the services' names, in start order.")])

    let global: GlobalOptions
    let compose: ComposeOptions
    let servicesOnly: Bool

    init(global: GlobalOptions, compose: ComposeOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        self.compose = compose
        servicesOnly = parsed.flag("services")
        if let extra = parsed.positionals.first { throw UsageError("compose config takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let project = try compose.load()
        if servicesOnly {
            for service in try ComposeModel.startOrder(project.model.services) { Output.print(service.name) }
        } else {
            Output.print(String(decoding: JSON.serialize(project.json, pretty: true), as: UTF8.self))
        }
        return 0
    }
}
