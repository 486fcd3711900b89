import CommandLineParsing
import Compose
import FileSystem
import JSON

/// `berth proxy-deploy up|deploy|rollback|down|status PROJECT SERVICE.json`: the deploy engine on a
/// service given as JSON (a `ProxiedService`), for the integration tests, which must run it
/// inside a network namespace of their own, until `compose up` and `compose deploy` map a
/// compose file onto the same calls. Hidden: not a user's command.
struct ProxyDeployCommand: BerthCommand {
    static let spec = CommandSpec(
        name: "proxy-deploy", abstract: "Run the proxied-service engine on a service given as JSON (tests).",
        usage: "up|deploy|rollback|down|status PROJECT SERVICE.json", hidden: true)

    let global: GlobalOptions
    let action: String
    let project: String
    let file: String

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 3, ["up", "deploy", "rollback", "down", "status"].contains(parsed.positionals[0]) else {
            throw UsageError("proxy-deploy takes up|deploy|rollback|down|status, a project and a service's JSON file")
        }
        action = parsed.positionals[0]
        project = parsed.positionals[1]
        file = parsed.positionals[2]
    }

    func run() throws -> Int32 {
        let service = try JSON.decode(ProxiedService.self, from: try FileIO.readFile(file), source: file)
        let deployer = try ProxyDeployer(engine: try global.engine(), project: project)
        switch action {
        case "up":
            try deployer.up(service)
        case "deploy":
            let outcome = try deployer.deploy(service)
            Output.print("deployed \(outcome.service): \(outcome.fromImage) -> \(outcome.toImage) in \(outcome.milliseconds) ms")
        case "rollback":
            let outcome = try deployer.rollback(service.name)
            Output.print("rolled back \(outcome.service): \(outcome.fromImage) -> \(outcome.toImage) in \(outcome.milliseconds) ms")
        case "down":
            try deployer.down(service.name)
        default:
            for (slot, stat) in try deployer.status(service.name) {
                Output.print([slot.server, slot.backup ? "backup" : "active", String((slot.container ?? "-").prefix(12)),
                              slot.address ?? "-", stat?.status ?? "-", String(stat?.sessions ?? 0)].joined(separator: " "))
            }
        }
        return 0
    }
}
