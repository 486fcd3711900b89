import Foundation
import Testing

extension Containers.Deploys {
    /// A proxied service's instances get what a plain instance of it gets (a named volume the
    /// versions share, labels, working_dir, user), and the image a rollback would go back to is
    /// held in the store: prune keeps it, rmi refuses it, `compose down` lets it go. One active
    /// and one backup, no load: the cycle itself is the other tests' business.
    @Test("a proxied service's volume, labels, working_dir and user; its previous image survives prune until down")
    func instanceSettingsAndHeldImage() throws {
        let stage = try DeployStage(fixture)
        defer { stage.tearDown() }
        let host = stage.host
        for version in ["v1", "v2"] {
            let made = try host.berth(["create", "--name", "mk-\(version)", StandInHost.image, "true"])
            try #require(made.status == 0, "\(made.stderr)")
            let commit = try host.berth(["commit", "-c", "ENV APP_VERSION=\(version)", "mk-\(version)", "shop:\(version)"])
            try #require(commit.status == 0, "\(commit.stderr)")
            _ = try host.berth(["rm", "mk-\(version)"])
        }
        let file = host.root + "/compose.yaml"
        try """
            services:
              web:
                image: shop:v1
                command: ["/bin/testapp", "--port", "3000", "--boot-ms", "100"]
                healthcheck: { test: ["NONE"], interval: 100ms, timeout: 1s, retries: 3, start_period: 5s }
                stop_grace_period: 2s
                deploy: { replicas: 1 }
                volumes: ["data:/data"]
                labels: { team: web }
                working_dir: /data
                user: "1000"
                cgroup_parent: \(fixture.cgroupParent)
                x-berth:
                  port: 3000
                  proxy: { listen: "127.0.0.1:8080", backups: 1, health_path: /up }
            volumes: { data: {} }
            """.write(toFile: file, atomically: true, encoding: .utf8)
        func compose(_ args: [String]) throws -> Command.Result {
            try host.berth(["compose", "-f", file, "-p", "demo"] + args, timeout: 120)
        }
        func instances() throws -> [String] {
            try compose(["ps"]).output.split(separator: "\n").filter { $0.hasPrefix("web ") }.map { String($0.split(separator: " ")[1]) }
        }
        func answer() throws -> String { try host.shell("wget -qO- http://127.0.0.1:8080/").output }
        let up = try compose(["up", "-d"])
        try #require(up.status == 0, "\(up.stderr)")
        #expect(!up.stderr.contains("volumes") && !up.stderr.contains("labels"), "no warning for what applies: \(up.stderr)")
        let first = try instances()
        try #require(first.count == 2, "an active and a backup: \(first)")
        let shown = try host.berth(["inspect", "--format", "{{.Config.WorkingDir}} {{.Config.User}} {{json .Config.Labels}}", first[0]])
        #expect(shown.output.hasPrefix("/data 1000 {"), "\(shown.output) \(shown.stderr)")
        #expect(shown.output.contains("\"team\":\"web\"") && shown.output.contains("\"berth.compose.service\":\"web\""), "\(shown.output)")
        let wrote = try host.berth(["exec", "-u", "0", first[0], "sh", "-c", "echo kept > /data/note"])
        try #require(wrote.status == 0, "\(wrote.stderr)")

        let deploy = try compose(["deploy", "web", "--image", "shop:v2"])
        try #require(deploy.status == 0, "\(deploy.stderr)")
        #expect(try answer() == "v2")
        let second = try instances()
        #expect(second.count == 2 && Set(second).isDisjoint(with: first), "new containers: \(first) -> \(second)")
        for name in second {
            #expect(try host.berth(["exec", name, "cat", "/data/note"]).output == "kept", "\(name) reads what v1 wrote")
        }

        // The service's name resolves, on its network, to the instances that run: the new version's.
        let lookup = "awk '{for (i = 2; i <= NF; i++) if ($i == \"web\") print $1}' /etc/hosts"
        let named = try host.berth(["exec", second[0], "sh", "-c", lookup]).stdout.split(separator: "\n").map(String.init)
        var own: [String] = []
        for name in second {
            let words = try host.berth(["exec", name, "ip", "-4", "-o", "addr", "show", "eth0"]).stdout.split(separator: " ")
            if let inet = words.firstIndex(of: "inet"), inet + 1 < words.count {
                own.append(String(words[inet + 1].prefix { $0 != "/" }))
            }
        }
        #expect(own.count == 2 && Set(named) == Set(own), "web in /etc/hosts: \(named), the instances: \(own)")

        // The deploy kept v1's instances, stopped, for a hot rollback; removed by hand, shop:v1
        // is used by no container, but a (cold) rollback still needs it.
        let standbys = try compose(["ps", "-a", "--format", "json"]).output.split(separator: "\n").compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["Role"] as? String == "standby" else { return nil }
            return object["ID"] as? String
        }
        #expect(standbys.count == 2, "\(standbys)")
        try #require(try host.berth(["rm", "-f"] + standbys).status == 0)
        let prune = try host.berth(["image", "prune", "-a"])
        #expect(prune.status == 0, "\(prune.stderr)")
        let images = try host.berth(["images", "--format", "{{.Repository}}:{{.Tag}}"]).output.split(separator: "\n")
        #expect(images.contains("shop:v1") && images.contains("shop:v2"), "\(images)")
        let rmi = try host.berth(["rmi", "shop:v1"])
        #expect(rmi.status != 0 && rmi.stderr.contains("service web of compose project demo"), "\(rmi.status) \(rmi.stderr)")
        let back = try compose(["rollback", "web"])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(try answer() == "v1")

        let down = try compose(["down"])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(try host.berth(["volume", "ls", "-q"]).output == "demo_data", "down without -v keeps the volume")
        _ = try host.berth(["image", "prune", "-a"])
        let left = try host.berth(["images", "--format", "{{.Repository}}:{{.Tag}}"]).output.split(separator: "\n")
        #expect(!left.contains("shop:v1") && !left.contains("shop:v2"), "down released them: \(left)")
    }
}
