import CommandLineParsing
import Containers

/// `berth wait`: blocks until each container has stopped, and prints its exit code.
struct WaitContainers: BerthCommand {
    static let spec = CommandSpec(
        name: "wait", abstract: "Block until containers stop, then print their exit codes.",
        usage: "CONTAINER [CONTAINER...]")

    let global: GlobalOptions
    let names: [String]

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        if names.isEmpty { throw UsageError("wait needs at least one container name or id") }
    }

    /// One code per line, in the order the containers were named; a container that cannot be
    /// waited for is one line on stderr, and the others are still waited for.
    func run() throws -> Int32 {
        let engine = try global.engine()
        return forEachReportingFailures(names) { name in
            Output.print(String(try engine.wait(try engine.find(name))))
        }
    }
}
