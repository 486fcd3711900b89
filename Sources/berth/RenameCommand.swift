import CommandLineParsing
import Containers

/// `berth rename OLD NEW`.
struct RenameContainer: BerthCommand {
    static let spec = CommandSpec(name: "rename", abstract: "Rename a container.", usage: "CONTAINER NEW_NAME")

    let global: GlobalOptions
    let container: String
    let newName: String

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 2 else {
            throw UsageError("rename takes a container and its new name: berth rename CONTAINER NEW_NAME")
        }
        container = parsed.positionals[0]
        newName = parsed.positionals[1]
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        try engine.rename(try engine.find(container), to: newName)
        return 0
    }
}
