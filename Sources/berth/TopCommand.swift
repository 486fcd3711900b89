import CommandLineParsing
import Containers
import Runtime

/// `berth top`: a running container's processes, with ps -ef's columns.
struct TopContainer: BerthCommand {
    static let spec = CommandSpec(
        name: "top", abstract: "Show the processes of a running container.",
        discussion: "ps options after the container are accepted for Docker's sake and ignored: the columns are ps -ef's.",
        usage: "CONTAINER [ps OPTIONS]", stopsAtFirstPositional: true)

    let global: GlobalOptions
    let container: String

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard let first = parsed.positionals.first else { throw UsageError("top needs a container name or id") }
        container = first
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        var table = Table(ProcessTable.titles)
        for row in try engine.processes(of: try engine.find(container)).rows { table.add(row) }
        Output.print(table.render())
        return 0
    }
}
