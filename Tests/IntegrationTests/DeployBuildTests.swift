import Foundation
import Testing

extension Containers.Deploys {
    /// `compose deploy web --build` (issue 16): the build's output, then the careful cycle to
    /// what was built; the version is pinned by the image's id, so after two builds under one
    /// tag, `rollback` goes back to the first build's image exactly. One load run over the
    /// two deploys and the rollback: no failed request.
    @Test("deploy --build twice, then rollback: the previous build's image, no failed request")
    func deployBuildAndRollback() throws {
        let stage = try DeployStage(fixture)
        defer { stage.tearDown() }
        let host = stage.host
        let directory = host.root + "/app"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // The app says its version from the image's environment, which each build changes.
        try "FROM \(StandInHost.image)\nARG VERSION\nENV APP_VERSION=$VERSION\n"
            .write(toFile: directory + "/Dockerfile", atomically: true, encoding: .utf8)
        let file = directory + "/compose.yaml"
        func write(_ version: String) throws {
            try """
                services:
                  web:
                    build: { context: ., args: { VERSION: \(version) } }
                    command: ["/bin/testapp", "--port", "3000", "--boot-ms", "300"]
                    healthcheck: { test: ["NONE"], interval: 100ms, timeout: 1s, retries: 3, start_period: 5600ms }
                    stop_grace_period: 10s
                    deploy: { replicas: 2 }
                    cgroup_parent: \(fixture.cgroupParent)
                    x-berth:
                      port: 3000
                      proxy: { listen: "127.0.0.1:8080", backups: 2, health_path: /up }
                """.write(toFile: file, atomically: true, encoding: .utf8)
        }
        func compose(_ args: [String]) throws -> Command.Result {
            try host.berth(["compose", "-f", file, "-p", "demo"] + args, timeout: 120)
        }
        func answers() throws -> [String] {
            try host.shell("for i in 1 2 3 4; do wget -qO- http://127.0.0.1:8080/; done").output.split(separator: "\n").map(String.init)
        }
        try write("v1")
        let up = try compose(["up", "-d"])
        try #require(up.status == 0, "\(up.stderr)")
        #expect(up.stderr.contains("Successfully tagged demo-web"), "up built the missing image: \(up.stderr)")
        #expect(try answers() == ["v1", "v1", "v1", "v1"])

        let load = try LoadRun(stage, seconds: 14)
        Thread.sleep(forTimeInterval: 1)
        let began = LoadRun.nowMilliseconds
        try write("v2")
        let second = try compose(["deploy", "web", "--build"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("Step 3/3 : ENV APP_VERSION=$VERSION") && second.stderr.contains("Successfully built "),
                "the build's lines first: \(second.stderr)")
        #expect(second.output.hasPrefix("deployed web: demo-web ("), "the ids tell the builds apart: \(second.output)")
        try write("v3")
        let third = try compose(["deploy", "web", "--build"])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(try answers() == ["v3", "v3", "v3", "v3"])
        // demo-web names the v3 build now; the rollback goes to the v2 build by its id.
        let back = try compose(["rollback", "web"])
        let ended = LoadRun.nowMilliseconds
        #expect(back.status == 0, "\(back.stderr)")
        let result = try load.finish()
        result.report("deploy --build twice, then rollback", began: began, ended: ended)
        result.expectNoLoss(answeredAfterwardsBy: "v2", after: ended)
        #expect(try answers() == ["v2", "v2", "v2", "v2"])
        let ps = try compose(["ps"]).output.split(separator: "\n").filter { $0.hasPrefix("web ") }
        #expect(ps.count == 4 && ps.allSatisfy { $0.contains(" demo-web ") }, "ps names the image, not its id: \(ps)")
    }
}
