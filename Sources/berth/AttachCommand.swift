import CommandLineParsing
import Containers

/// `berth attach`: a running container's output from now until it ends, with the signals berth
/// is sent passed to it (`--sig-proxy`, on by default); berth exits with the container's code.
/// Its input is not attached: a detached container's monitor keeps none, as Docker keeps none
/// for a container started without -i.
struct AttachContainer: BerthCommand {
    static let spec = CommandSpec(
        name: "attach", abstract: "Show a running container's output until it ends, passing it berth's signals.",
        usage: "[OPTIONS] CONTAINER",
        options: [
            .flag("sig-proxy",
                  help: "Pass the signals berth gets to the container; with --sig-proxy=false, Ctrl-C leaves it running. (default: true)"),
            .flag("no-stdin", help: "Do not attach the input (berth never does: a detached container's input is closed)."),
        ])

    let global: GlobalOptions
    let proxySignals: Bool
    let name: String

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        proxySignals = parsed.flag("sig-proxy", default: true)
        guard parsed.positionals.count == 1, let name = parsed.positionals.first else {
            throw UsageError("attach needs exactly one container name or id")
        }
        self.name = name
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        let record = try engine.find(name)
        let state = engine.state(of: record)
        guard state.status == .running else {
            throw ContainerError(.invalidState, "container \(record.name) is not running: start it first, attached (berth start -a \(record.name))")
        }
        if state.paused {
            throw ContainerError(.invalidState, "container \(record.name) is paused: unpause it first (berth unpause \(record.name))")
        }
        return try Self.attach(record, engine, from: .last(0), proxySignals: proxySignals)
    }

    /// The container's output from `start` to its end on berth's stdout and stderr; its exit code.
    static func attach(_ record: ContainerRecord, _ engine: ContainerEngine, from start: ContainerLog.Start,
                       proxySignals: Bool) throws -> Int32 {
        var output = LogOutput(timestamps: false)
        let code = try engine.attach(record, from: start, proxySignals: proxySignals, flush: {
            output.flush()
            return !output.readerGone
        }, emit: { output.add($0) })
        output.flush()
        return code
    }
}
