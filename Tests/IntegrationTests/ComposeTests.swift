import Foundation
import Testing

extension Containers {
    /// Compose projects end to end (issue 15, the file half): up, ps, a re-up that adopts what
    /// runs, a changed service replaced, down [-v], services reaching each other by name, and
    /// a malformed file's error. In a stand-in host: a project makes a bridge network.
    @Suite("Compose", .enabled(if: Host.hasNetworkTools))
    struct Compose {
        let fixture = Fixture.shared

        static func peer(_ result: Command.Result) -> String {
            result.output.replacingOccurrences(of: "peer=", with: "")
        }

        /// A project directory with `text` as its compose.yaml, removed at the end.
        final class ProjectFile {
            let directory: String
            var file: String { directory + "/compose.yaml" }

            init(_ text: String) throws {
                directory = try Fixture.shared.makeStateRoot() + "-project"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try write(text)
            }

            func write(_ text: String) throws { try text.write(toFile: file, atomically: true, encoding: .utf8) }

            deinit { try? FileManager.default.removeItem(atPath: directory) }
        }

        func composeText(web environment: String = "A=1", replicas: Int = 2) -> String {
            """
            services:
              db:
                image: \(StandInHost.image)
                command: ["/bin/payload", "serve", "tcp", "5432"]
                volumes: ["dbdata:/data"]
                healthcheck: { test: ["CMD", "/bin/payload", "ask", "tcp", "127.0.0.1", "5432"], interval: 500ms, timeout: 2s, retries: 5 }
                stop_grace_period: 1s
                cgroup_parent: \(fixture.cgroupParent)
              web:
                image: \(StandInHost.image)
                command: ["sh", "-c", "echo web says hello; echo kept > /data/note; exec sleep 300"]
                environment: [\(environment)]
                volumes: ["dbdata:/data"]
                depends_on: { db: { condition: service_healthy } }
                deploy: { replicas: \(replicas) }
                stop_grace_period: 1s
                cgroup_parent: \(fixture.cgroupParent)
            volumes: { dbdata: {} }
            """
        }

        /// The ids of the project's containers, by name.
        func ids(_ host: StandInHost, _ file: String) throws -> [String: String] {
            let ps = try host.berth(["compose", "-f", file, "-p", "shop", "ps", "--format", "json"])
            var result: [String: String] = [:]
            for line in ps.stdout.split(separator: "\n") {
                guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let name = object["Name"] as? String, let id = object["ID"] as? String else { continue }
                result[name] = id
            }
            return result
        }

        @Test("up with depends_on service_healthy and a named volume; ps; re-up adopts; a change is replaced; down -v")
        func upPsDown() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let project = try ProjectFile(composeText())
            defer { _ = try? host.berth(["compose", "-f", project.file, "-p", "shop", "down", "-v"]) }

            let up = try host.berth(["compose", "-f", project.file, "-p", "shop", "up", "-d"], timeout: 120)
            #expect(up.status == 0, "\(up.stderr)")
            #expect(up.stderr.contains("Container shop-db-1 Healthy"), "\(up.stderr)")
            let order = ["Network shop_default Created", "Volume shop_dbdata Created", "Container shop-db-1 Created and started",
                         "Container shop-db-1 Healthy", "Container shop-web-1 Created and started", "Container shop-web-2 Created and started"]
            let positions = order.map { up.stderr.range(of: $0)?.lowerBound }
            #expect(positions.allSatisfy { $0 != nil } && positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(),
                    "networks and volumes first, db healthy before web: \(up.stderr)")

            let ps = try host.berth(["compose", "-f", project.file, "-p", "shop", "ps"])
            #expect(ps.status == 0)
            let lines = ps.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("SERVICE") == true && lines.count == 4, "\(ps.stdout)")
            #expect(lines.contains { $0.hasPrefix("db ") && $0.contains(" shop-db-1 ") && $0.contains("(healthy)") }, "\(ps.stdout)")
            #expect(lines.contains { $0.hasPrefix("web ") && $0.contains(" shop-web-2 ") && $0.contains("Up ") }, "\(ps.stdout)")
            #expect(try host.berth(["volume", "ls"]).stdout.contains("shop_dbdata"))
            #expect(try host.berth(["network", "ls"]).stdout.contains("shop_default"))
            let inspect = try host.berth(["inspect", "shop-web-2"]).stdout
            #expect(inspect.contains("\"com.docker.compose.project\": \"shop\"")
                    && inspect.contains("\"com.docker.compose.container-number\": \"2\""), "\(inspect)")

            let logs = try host.berth(["compose", "-f", project.file, "-p", "shop", "logs", "web"])
            #expect(logs.stdout.contains("shop-web-1 | web says hello") && logs.stdout.contains("shop-web-2 | web says hello"),
                    "\(logs.stdout)")
            // The named volume is shared: db sees what web wrote.
            #expect(try host.berth(["exec", "shop-db-1", "cat", "/data/note"]).output == "kept")

            // Again: everything running is kept as it is.
            let before = try ids(host, project.file)
            #expect(before.count == 3)
            let again = try host.berth(["compose", "-f", project.file, "-p", "shop", "up", "-d"], timeout: 120)
            #expect(again.status == 0 && again.stderr.contains("Container shop-web-1 Running"), "\(again.stderr)")
            #expect(try ids(host, project.file) == before)

            // web's configuration changes: its instances are replaced, db's kept.
            try project.write(composeText(web: "A=2"))
            let changed = try host.berth(["compose", "-f", project.file, "-p", "shop", "up", "-d"], timeout: 120)
            #expect(changed.status == 0 && changed.stderr.contains("Container shop-web-1 Recreated"), "\(changed.stderr)")
            let after = try ids(host, project.file)
            #expect(after["shop-db-1"] == before["shop-db-1"])
            #expect(after["shop-web-1"] != nil && after["shop-web-1"] != before["shop-web-1"])
            #expect(try host.berth(["exec", "shop-web-1", "sh", "-c", "echo $A"]).output == "2")

            // Scaled down: the extra instance goes, the others are kept.
            try project.write(composeText(web: "A=2", replicas: 1))
            let scaled = try host.berth(["compose", "-f", project.file, "-p", "shop", "up", "-d"], timeout: 120)
            #expect(scaled.status == 0 && scaled.stderr.contains("Container shop-web-2 Removed"), "\(scaled.stderr)")
            let afterScale = try ids(host, project.file)
            #expect(afterScale.count == 2 && afterScale["shop-web-1"] == after["shop-web-1"], "\(afterScale)")

            // down keeps the named volume; down -v removes it.
            let down = try host.berth(["compose", "-f", project.file, "-p", "shop", "down"], timeout: 120)
            #expect(down.status == 0, "\(down.stderr)")
            #expect(try host.berth(["ps", "-aq"]).output.isEmpty)
            #expect(!(try host.berth(["network", "ls"]).stdout.contains("shop_default")))
            #expect(try host.berth(["volume", "ls"]).stdout.contains("shop_dbdata"))
            #expect(try host.berth(["compose", "-f", project.file, "-p", "shop", "up", "-d"], timeout: 120).status == 0)
            // -p alone, where there is no Compose file (the tests' directory), finds the project by its labels.
            #expect(try host.berth(["compose", "-p", "shop", "ps"]).stdout.contains("shop-web-1"))
            let downV = try host.berth(["compose", "-p", "shop", "down", "-v"], timeout: 120)
            #expect(downV.status == 0, "\(downV.stderr)")
            #expect(try host.berth(["ps", "-aq"]).output.isEmpty)
            #expect(!(try host.berth(["volume", "ls"]).stdout.contains("shop_dbdata")))
            #expect(!(try host.berth(["network", "ls"]).stdout.contains("shop_default")))
            let left = try host.leftovers()
            #expect(left.veths.isEmpty && left.leases.isEmpty, "\(left)")
        }

        @Test("services reach each other by their service's name on the project's network")
        func byName() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let project = try ProjectFile("""
                name: names
                services:
                  api:
                    image: \(StandInHost.image)
                    command: ["/bin/payload", "serve", "tcp", "7000"]
                    networks: { back: { aliases: [backend] } }
                    stop_grace_period: 1s
                    cgroup_parent: \(fixture.cgroupParent)
                  client:
                    image: \(StandInHost.image)
                    command: ["sleep", "300"]
                    networks: [back]
                    depends_on: [api]
                    stop_grace_period: 1s
                    cgroup_parent: \(fixture.cgroupParent)
                networks: { back: {} }
                """)
            defer { _ = try? host.berth(["compose", "-f", project.file, "down"]) }
            let up = try host.berth(["compose", "-f", project.file, "up", "-d"], timeout: 120)
            #expect(up.status == 0, "\(up.stderr)")
            let lookup = "for name in api backend; do awk -v n=$name '{for (i = 2; i <= NF; i++) if ($i == n) {print $1; exit}}' /etc/hosts; done"
            let addresses = try host.berth(["exec", "names-client-1", "sh", "-c", lookup]).stdout.split(separator: "\n").map(String.init)
            #expect(addresses.count == 2 && addresses[0] == addresses[1] && addresses[0].split(separator: ".").count == 4, "\(addresses)")
            let asked = try host.berth(["exec", "names-client-1", "sh", "-c",
                                        "ping -c1 -W2 api >/dev/null && /bin/payload ask tcp \(addresses.first ?? "") 7000"])
            let client = try host.berth(["exec", "names-client-1", "sh", "-c", "ip -4 -o addr show eth0"]).stdout
            #expect(asked.status == 0 && asked.stdout.hasPrefix("peer=") && client.contains(Self.peer(asked) + "/"),
                    "the server saw the client's own address: \(asked.stdout)\(asked.stderr) \(client)")
            #expect(try host.berth(["network", "ls"]).stdout.contains("names_back"))
        }

        @Test("logs -f follows every instance until they end, each line after its container's name")
        func followLogs() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let project = try ProjectFile("""
                name: talk
                services:
                  talker:
                    image: \(StandInHost.image)
                    command: ["sh", "-c", "echo one; sleep 2; echo two >&2"]
                    deploy: { replicas: 2 }
                    cgroup_parent: \(fixture.cgroupParent)
                """)
            defer { _ = try? host.berth(["compose", "-f", project.file, "down"]) }
            // Without -d, up prints the output until the services end.
            let attached = try host.berth(["compose", "-f", project.file, "up"], timeout: 60)
            #expect(attached.status == 0 && attached.stdout.contains("talk-talker-2 | one\n"), "\(attached.stdout)\(attached.stderr)")
            #expect(attached.stderr.contains("talk-talker-1 | two\n"), "\(attached.stderr)")
            #expect(try host.berth(["compose", "-f", project.file, "up", "-d"], timeout: 60).status == 0)
            let started = Date()
            let logs = try host.berth(["compose", "-f", project.file, "logs", "-f"], timeout: 30)
            #expect(logs.status == 0)
            #expect(Date().timeIntervalSince(started) < 20, "it ended with the containers")
            for name in ["talk-talker-1", "talk-talker-2"] {
                #expect(logs.stdout.contains("\(name) | one\n") && logs.stderr.contains("\(name) | two\n"), "\(logs.stdout)\(logs.stderr)")
            }
            let unknown = try host.berth(["compose", "-f", project.file, "logs", "nobody"])
            #expect(unknown.status != 0 && unknown.stderr.contains("no such service: nobody"), "\(unknown.stderr)")
        }

        @Test("up without -d: Ctrl-C stops the services, and up returns")
        func interruptedUp() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let project = try ProjectFile("""
                name: long
                services:
                  sleeper:
                    image: \(StandInHost.image)
                    command: ["sh", "-c", "echo awake; exec sleep 300"]
                    stop_grace_period: 1s
                    cgroup_parent: \(fixture.cgroupParent)
                """)
            defer { _ = try? host.berth(["compose", "-f", project.file, "down"]) }
            let output = project.directory + "/up.out"
            let up = try Spawned("/usr/bin/nsenter", ["--net=/run/netns/\(host.name)", fixture.berth, "--root", host.root,
                                                      "compose", "-f", project.file, "up"], stdout: output, stderr: output + ".err")
            try waitFor("the service's output is attached", timeout: 30) {
                (try? String(contentsOfFile: output, encoding: .utf8))?.contains("long-sleeper-1 | awake") == true
            }
            kill(up.pid, SIGINT)
            let status = up.wait(seconds: 20)
            #expect(status == 0, "\((try? String(contentsOfFile: output + ".err", encoding: .utf8)) ?? "")")
            let ps = try host.berth(["compose", "-f", project.file, "ps", "-a"]).stdout
            #expect(ps.contains("long-sleeper-1") && ps.contains("Exited"), "\(ps)")
        }

        @Test("a service_healthy dependency that fails its check stops up before its dependents are made")
        func unhealthyDependency() throws {
            let host = try StandInHost(fixture)
            defer { host.remove() }
            let project = try ProjectFile("""
                name: sick
                services:
                  db:
                    image: \(StandInHost.image)
                    command: ["sleep", "300"]
                    healthcheck: { test: ["CMD", "false"], interval: 300ms, retries: 1 }
                    stop_grace_period: 1s
                    cgroup_parent: \(fixture.cgroupParent)
                  web:
                    image: \(StandInHost.image)
                    command: ["sleep", "300"]
                    depends_on: { db: { condition: service_healthy } }
                    cgroup_parent: \(fixture.cgroupParent)
                """)
            defer { _ = try? host.berth(["compose", "-f", project.file, "down"]) }
            let up = try host.berth(["compose", "-f", project.file, "up", "-d"], timeout: 60)
            #expect(up.status != 0 && up.stderr.contains("berth: dependency sick-db-1 is unhealthy"), "\(up.stderr)")
            let ps = try host.berth(["compose", "-f", project.file, "ps", "-a"]).stdout
            #expect(ps.contains("sick-db-1") && !ps.contains("sick-web-1"), "\(ps)")
        }

        @Test("a malformed file: one line with the file, the line and the key, exit 125, nothing made")
        func malformed() throws {
            let root = try fixture.makeStateRoot()
            let project = try ProjectFile("services:\n  web:\n    image: \(StandInHost.image)\n    ports: 80\n")
            let r = try fixture.berth(["compose", "-f", project.file, "up", "-d"], root: root)
            #expect(r.status == 125)
            #expect(r.stderr == "berth: \(project.file):4: services.web.ports must be a list\n", "\(r.stderr)")
            #expect(try fixture.berth(["ps", "-aq"], root: root).output.isEmpty)
            #expect(try fixture.berth(["volume", "ls", "-q"], root: root).output.isEmpty)

            // An image that is not there: named before anything of the project is made.
            try project.write("services:\n  web:\n    image: nothere:1\n")
            let missing = try fixture.berth(["compose", "-f", project.file, "-p", "p", "up", "-d"], root: root)
            #expect(missing.status != 0 && missing.stderr.hasPrefix("berth: service web: ") && missing.stderr.contains("nothere"),
                    "\(missing.stderr)")
            #expect(!(try fixture.berth(["network", "ls"], root: root).stdout.contains("p_default")))

            try project.write("services:\n  web:\n    image: x\n    build: { context: ., ssh: [default] }\n    cap_add: [ALL]\n")
            let config = try fixture.berth(["compose", "-f", project.file, "-p", "p", "config"], root: root)
            #expect(config.status == 0)
            #expect(config.stderr == "berth: warning: \(project.file): ignoring unsupported keys: services.web.cap_add, services.web.build.ssh\n",
                    "\(config.stderr)")
            #expect(config.stdout.contains("\"image\": \"x\""), "\(config.stdout)")
        }
    }
}
