import Foundation
import Testing

/// `--format` with Go templates (issue 14) on ps, images, inspect, network ls and volume ls.
extension Containers {
    @Suite("Formats")
    struct Formats {
        let fixture = Fixture.shared

        @Test("field references, json, range, if, index, pipes, literal text and the table prefix; an unknown field or a broken template refused")
        func templates() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let volume = "fmt-\(UUID().uuidString.prefix(8).lowercased())"
            #expect(try root.berth(["volume", "create", volume]).status == 0)
            defer { _ = try? root.berth(["volume", "rm", "-f", volume]) }
            let id = try root.runDetached(["--name", "web", "--label", "tier=front", "--label", "app=shop", "-v", volume + ":/data"],
                                          ["sleep", "1000"])
            // Docker's other columns of ps: labels, mounts, networks, and templates' functions over them.
            let columns = try root.berth(["ps", "--format", "{{.Labels}}|{{.Mounts}}|{{.Networks}}|{{.LocalVolumes}}|"
                                              + "{{printf \"%-5.3s\" .Names}}|"
                                              + "{{if and (eq .State \"running\") (gt (len .Labels) 3)}}{{title .State}}{{end}}"])
            #expect(columns.stdout == "app=shop,tier=front|\(volume)|none|1|web  |Running\n",
                    "\(columns.stdout) \(columns.stderr)")

            #expect(try root.berth(["ps", "--format", "{{.Names}}"]).stdout == "web\n")
            #expect(try root.berth(["ps", "--format", "name={{.Names}} id={{.ID}}"]).stdout == "name=web id=\(id.prefix(12))\n")
            let table = try root.berth(["ps", "--format", "table {{.ID}}\\t{{.Names}}"]).stdout
            #expect(table == "CONTAINER ID   NAMES\n\(id.prefix(12))   web\n", "\(table)")
            let json = try root.berth(["ps", "--format", "{{json .Names}}"]).stdout
            #expect(json == "\"web\"\n")

            #expect(try root.berth(["images", "--format", "{{.Repository}}:{{.Tag}}"]).stdout == LifecycleRoot.image + "\n")
            let pid = try root.state("web")["Pid"] as? Int
            #expect(try root.berth(["inspect", "-f", "{{.State.Pid}}", "web"]).stdout == "\(pid ?? -1)\n")
            #expect(try root.berth(["inspect", "--format", "{{.Name}} {{json .Config.Labels}}", "web"]).stdout
                        .contains("web {\""))
            let labels = try root.berth(["inspect", "-f", "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}"
                                             + "{{if .State.Running}}up{{else}}down{{end}} {{index .Config.Labels \"tier\" | upper}}", "web"])
            #expect(labels.stdout == "app=shop;tier=front;up FRONT\n", "\(labels.stdout) \(labels.stderr)")
            #expect(try root.berth(["volume", "ls", "--format", "{{.Name}}"]).stdout == volume + "\n")
            let networks = try root.berth(["network", "ls", "--format", "{{.Name}}/{{.Driver}}"]).stdout
            #expect(networks.hasSuffix("host/host\nnone/null\n"), "\(networks)")

            let unknown = try root.berth(["ps", "--format", "{{.Nope}}"])
            #expect(unknown.status == 125 && unknown.stderr == "berth: bad --format template: no field .Nope (at \"Nope\")\n",
                    "\(unknown.status) \(unknown.stderr)")
            let deep = try root.berth(["inspect", "-f", "{{.State.Nope}}", "web"])
            #expect(deep.status == 125 && deep.stderr.contains("no field .State.Nope"), "\(deep.stderr)")
            let open = try root.berth(["ps", "--format", "{{.Names"])
            #expect(open.status == 125 && open.stderr.contains("is not closed with }}"), "\(open.stderr)")
            let function = try root.berth(["images", "--format", "{{html .Repository}}"])
            #expect(function.status == 125 && function.stderr.contains("the function \"html\" is not supported"), "\(function.stderr)")
        }
    }
}
