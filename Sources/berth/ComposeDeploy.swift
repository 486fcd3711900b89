import CommandLineParsing
import Compose
import Containers

/// `berth compose deploy SERVICE [--image IMAGE]`.
struct ComposeDeploy: ComposeCommand {
    static let spec = CommandSpec(
        name: "deploy", abstract: "Move a proxied service to a new image without losing a request.",
        discussion: """
            The backups, then the actives: each drained in HAProxy, stopped, replaced by a new instance of the \
            new version, probed healthy, and put back. A new instance that is not healthy in time rolls the \
            service back to the version it ran, the same way, and deploy fails saying why. With --build the \
            service's image is built first; the deploy pins what was built by its id.
            """,
        usage: "[OPTIONS] SERVICE",
        options: [
            .value("image", valueName: "image", help: "The image to move to (default: the file's)."),
            .flag("build", help: "Build the service's image from its build: section first, and move to what was built."),
        ])

    let global: GlobalOptions
    let compose: ComposeOptions
    let service: String
    let image: String?
    let build: Bool

    init(global: GlobalOptions, compose: ComposeOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        self.compose = compose
        guard parsed.positionals.count == 1 else { throw UsageError("compose deploy takes one service") }
        service = parsed.positionals[0]
        image = parsed.string("image")
        build = parsed.flag("build")
        if build, image != nil { throw UsageError("compose deploy takes --build or --image, not both: --build deploys what it built") }
    }

    /// A deploy that failed (and was rolled back) is no bad input.
    static var failureCode: Int32 { 1 }

    func run() throws -> Int32 {
        let compose = try composeEngine(global, compose)
        if build {
            let chosen = try compose.servicesToBuild([service], policy: .always)
            guard !chosen.isEmpty else {
                throw ContainerError(.invalidArgument, "service \(service) has no build: section, so deploy --build has nothing to build: "
                                 + "give it one, or deploy without --build")
            }
            try ComposeBuilds.run(chosen, of: compose)
        }
        // The deploy records the built image by its id, so a later build under the same tag
        // leaves this version, and a rollback to it, as they are.
        let outcome = try compose.deploy(service, image: image)
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
