@testable import berth
import CommandLineParsing
import Testing

/// `berth compose`'s command line: its own -f and -p before the command, the command's after.
@Suite("compose commands") struct ComposeCommandTests {
    @Test func composeOptionsReachTheCommand() throws {
        guard case .command(let command) = try Berth.parse(["compose", "-f", "x.yaml", "-p", "shop", "up", "-d", "web", "db"]),
              let up = command as? ComposeUp else {
            Issue.record("not compose up")
            return
        }
        #expect(up.compose.file == "x.yaml" && up.compose.projectName == "shop")
        #expect(up.services == ["web", "db"])
    }

    @Test func eachCommandParses() throws {
        guard case .command(let down) = try Berth.parse(["compose", "down", "-v"]) else { Issue.record("down"); return }
        #expect((down as? ComposeDown)?.volumes == true && (down as? ComposeDown)?.compose.file == nil)
        guard case .command(let ps) = try Berth.parse(["compose", "--file", "a.yml", "ps", "-a", "--format", "json"]) else {
            Issue.record("ps")
            return
        }
        #expect((ps as? ComposePs)?.all == true && (ps as? ComposePs)?.json == true && (ps as? ComposePs)?.compose.file == "a.yml")
        guard case .command(let logs) = try Berth.parse(["compose", "logs", "-f", "web"]) else { Issue.record("logs"); return }
        #expect((logs as? ComposeLogs)?.follow == true && (logs as? ComposeLogs)?.services == ["web"])
        guard case .command(let config) = try Berth.parse(["compose", "config", "--services"]) else { Issue.record("config"); return }
        #expect((config as? ComposeConfig)?.servicesOnly == true)
        guard case .command(let deploy) = try Berth.parse(["compose", "-p", "shop", "deploy", "web", "--image", "me/shop:v3"]) else {
            Issue.record("deploy")
            return
        }
        #expect((deploy as? ComposeDeploy)?.service == "web" && (deploy as? ComposeDeploy)?.image == "me/shop:v3")
        #expect((deploy as? ComposeDeploy)?.compose.projectName == "shop")
        guard case .command(let fromFile) = try Berth.parse(["compose", "deploy", "web"]) else { Issue.record("deploy"); return }
        #expect((fromFile as? ComposeDeploy)?.image == nil, "the file's image")
        guard case .command(let rollback) = try Berth.parse(["compose", "rollback", "web"]) else { Issue.record("rollback"); return }
        #expect((rollback as? ComposeRollback)?.service == "web")
    }

    @Test func badCommandLines() {
        #expect(throws: UsageError.self) { try Berth.parse(["compose", "down", "extra"]) }
        #expect(throws: UsageError.self) { try Berth.parse(["compose", "ps", "--format", "yaml"]) }
        #expect(throws: UsageError.self) { try Berth.parse(["compose", "frobnicate"]) }
        #expect(throws: UsageError.self) { try Berth.parse(["compose", "deploy"]) }
        #expect(throws: UsageError.self) { try Berth.parse(["compose", "rollback", "web", "db"]) }
        #expect(throws: UsageError.self) { try Berth.parse(["proxy-deploy", "up", "demo", "web.json"]) }
    }

    @Test func helpListsTheCommands() throws {
        guard case .help(let text) = try Berth.parse(["compose", "--help"]) else { Issue.record("no help"); return }
        for name in ["up", "down", "ps", "logs", "config", "deploy", "rollback", "--file", "--project-name"] {
            #expect(text.contains(name), "\(name)")
        }
    }
}
