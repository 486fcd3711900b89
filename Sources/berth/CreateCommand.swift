import CommandLineParsing
import Containers

/// `berth create`: a container made as `run -d` would make it, and not started (`start` starts
/// it, detached). Its options are run's, read by run's own code, minus -d.
struct CreateContainer: BerthCommand {
    static let spec = CommandSpec(
        name: "create",
        abstract: "Create a new container without starting it.",
        discussion: """
            The container is made from the image with every option checked, as berth run -d \
            would make it, and its id is printed; its status is Created until berth start \
            starts it in the background. Options come before the command, as with run.
            """,
        usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
        options: Run.spec.options.filter { $0.long != "detach" && $0.long != "rootfs" },
        stopsAtFirstPositional: true)

    /// Docker's code for a container that could not be made, as `run`'s.
    static var failureCode: Int32 { 125 }

    /// The options, as run reads them.
    let options: Run

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        options = try Run(global: global, parsed, detach: true)
    }

    func run() throws -> Int32 {
        let engine = try options.global.engine()
        engine.removeLeftovers()
        let created = try options.createPulling(engine, sync: .immediate)
        Output.print(created.record.id)
        return 0
    }
}
