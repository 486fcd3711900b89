import CommandLineParsing
import Compose

/// `berth compose deploy SERVICE [--image IMAGE]`.
struct ComposeDeploy: ComposeCommand {
    static let spec = CommandSpec(
        name: "deploy", abstract: "Move a proxied service to a new image without losing a request.",
        discussion: """
            The backups, then the actives: each drained in HAProxy, stopped, replaced by a new instance of the \
            new version, probed healthy, and put back. A new instance that is not healthy in time rolls the \
            service back to the version it ran, the same way, and deploy fails saying why.
            """,
        usage: "[OPTIONS] SERVICE",
        options: [.value("image", valueName: "image", help: "The image to move to (default: the file's).")])

    let global: GlobalOptions
    let compose: ComposeOptions
    let service: String
    let image: String?

    init(global: GlobalOptions, compose: ComposeOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        self.compose = compose
        guard parsed.positionals.count == 1 else { throw UsageError("compose deploy takes one service") }
        service = parsed.positionals[0]
        image = parsed.string("image")
    }

    /// A deploy that failed (and was rolled back) is no bad input.
    static var failureCode: Int32 { 1 }

    func run() throws -> Int32 {
        let outcome = try composeEngine(global, compose).deploy(service, image: image)
        Output.print(outcomeLine("deployed", outcome))
        return 0
    }
}

/// `berth compose rollback SERVICE`.
struct ComposeRollback: ComposeCommand {
    static let spec = CommandSpec(
        name: "rollback", abstract: "Move a proxied service back to the image its last deploy replaced, the same careful way.",
        usage: "[OPTIONS] SERVICE")

    let global: GlobalOptions
    let compose: ComposeOptions
    let service: String

    init(global: GlobalOptions, compose: ComposeOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        self.compose = compose
        guard parsed.positionals.count == 1 else { throw UsageError("compose rollback takes one service") }
        service = parsed.positionals[0]
    }

    static var failureCode: Int32 { 1 }

    func run() throws -> Int32 {
        let outcome = try composeEngine(global, compose).rollback(service)
        Output.print(outcomeLine("rolled back", outcome))
        return 0
    }
}

/// "deployed web: me/shop:v2 -> me/shop:v3 in 4210 ms".
private func outcomeLine(_ what: String, _ outcome: ProxyDeployer.Outcome) -> String {
    "\(what) \(outcome.service): \(outcome.fromImage) -> \(outcome.toImage) in \(outcome.milliseconds) ms"
}
