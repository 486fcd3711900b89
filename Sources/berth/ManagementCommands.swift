import CommandLineParsing

/// Docker's management commands: each noun (`container`, `image`, `network`, `volume`,
/// `system`, `builder`) groups the commands on it, so `berth container ls` is `berth ps` and
/// `berth image rm` is `berth rmi`. An alias is a second path to the same command type: the
/// same options, the same behaviour, one implementation.
extension Berth {
    /// The nouns, in the order `berth --help` lists them, with their help line.
    static let nouns: [(name: String, abstract: String)] = [
        ("container", "Manage containers."),
        ("image", "Manage images."),
        ("network", "Manage networks."),
        ("volume", "Manage volumes."),
        ("system", "Manage berth: its host, its disk space."),
        ("builder", "Manage the build cache."),
    ]

    /// Each management path that names a command also reachable by its short form, Docker's.
    static let aliases: [(path: String, shortForm: String)] = [
        ("container run", "run"), ("container create", "create"), ("container ls", "ps"), ("container ps", "ps"),
        ("container rm", "rm"), ("container start", "start"), ("container attach", "attach"), ("container stop", "stop"),
        ("container restart", "restart"), ("container kill", "kill"), ("container pause", "pause"),
        ("container unpause", "unpause"), ("container wait", "wait"), ("container rename", "rename"),
        ("container top", "top"), ("container update", "update"), ("container export", "export"),
        ("container cp", "cp"), ("container exec", "exec"), ("container logs", "logs"),
        ("container stats", "stats"), ("container inspect", "inspect"), ("container diff", "diff"),
        ("container commit", "commit"), ("container port", "port"),
        ("image ls", "images"), ("image rm", "rmi"), ("image tag", "tag"), ("image history", "history"),
        ("image inspect", "inspect"), ("image save", "save"), ("image load", "load"), ("image import", "import"),
        ("image build", "build"), ("image pull", "pull"), ("image push", "push"), ("system info", "info"),
    ]

    /// The command type a path below berth names ("ps", "container ls"), nil for none.
    static func command(at path: String) -> (any BerthCommand.Type)? {
        let canonical = aliases.first { $0.path == path }?.shortForm ?? path
        return commands.first { $0.path == canonical }?.type
    }

    /// A noun's command: every path below it, from the aliases and the commands only found there
    /// (`image prune`), each command's spec under its name there (`ls` for `ps`).
    static func noun(_ name: String) -> CommandSpec {
        let prefix = name + " "
        var subcommands: [CommandSpec] = []
        // A loop, not compactMap: an optional CommandSpec would cost a metadata instantiation at
        // every start (see CommandSpec's indices).
        for path in aliases.map(\.path) + commands.map(\.path) where path.hasPrefix(prefix) {
            if let type = command(at: path) { subcommands.append(type.spec.named(String(path.dropFirst(prefix.count)))) }
        }
        let abstract = nouns.first { $0.name == name }?.abstract ?? ""
        return CommandSpec(name: name, abstract: abstract, usage: "COMMAND", subcommands: subcommands)
    }
}
