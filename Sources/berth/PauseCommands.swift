import CommandLineParsing
import Containers

/// `berth pause`: every process of the containers frozen (the cgroup freezer).
struct PauseContainers: BerthCommand {
    static let spec = CommandSpec(name: "pause", abstract: "Pause all processes of running containers.",
                                  usage: "CONTAINER [CONTAINER...]")

    let global: GlobalOptions
    let names: [String]

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        if names.isEmpty { throw UsageError("pause needs at least one container name or id") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        return forEach(names) { name in try engine.pause(try engine.find(name)) }
    }
}

/// `berth unpause`: the paused containers' processes run again.
struct UnpauseContainers: BerthCommand {
    static let spec = CommandSpec(name: "unpause", abstract: "Unpause all processes of paused containers.",
                                  usage: "CONTAINER [CONTAINER...]")

    let global: GlobalOptions
    let names: [String]

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        if names.isEmpty { throw UsageError("unpause needs at least one container name or id") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        return forEach(names) { name in try engine.unpause(try engine.find(name)) }
    }
}
