import Foundation
import Testing

extension Containers {
    /// Issue 15's zero-downtime deploys: a service of 2 actives and 2 backups (Fixtures/testapp.c)
    /// behind the real HAProxy, in a stand-in host, under the open-loop load of
    /// Fixtures/loadgen.c at 200 requests a second, through `berth compose up/deploy/rollback/ps/down`
    /// on a compose.yaml. A request passes only with a complete 2xx.
    @Suite("Deploys", .enabled(if: Host.hasNetworkTools && Host.hasHAProxy, "needs network tools and /usr/sbin/haproxy"))
    struct Deploys {
        let fixture = Fixture.shared

        @Test("a deploy at 200 req/s: no failed request, and every request after it answered by the new version",
              arguments: ["graceful", "die"])
        func deployUnderLoad(sigterm: String) throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let v1 = try stage.spec("v1", app: ["--sigterm", sigterm])
            let v2 = try stage.spec("v2", app: ["--sigterm", sigterm])
            let up = try stage.proxy("up", v1)
            try #require(up.status == 0, "\(up.stderr)")
            let load = try LoadRun(stage, seconds: 12)
            Thread.sleep(forTimeInterval: 3)
            let (deploy, result, began, ended) = try load.finish(after: { try stage.proxy("deploy", v2) })
            #expect(deploy.status == 0, "\(deploy.stderr)")
            result.report("deploy, app \(sigterm)s on SIGTERM", began: began, ended: ended)
            #expect(result.sent > 2000, "\(result.summary)")
            #expect(result.failed == 0, "\(result.summary) \(result.failures)")
            let after = result.requests.filter { $0.at > ended }
            #expect(after.count > 200, "the load went on after the deploy")
            #expect(after.allSatisfy { $0.version == "v2" }, "after the deploy: \(Set(after.map(\.version)))")
            let status = try stage.proxy("status", v2)
            #expect(status.output.split(separator: "\n").filter { $0.contains(" UP ") }.count == 4, "\(status.output)")
        }

        @Test("10 deploys in a row at 200 req/s: no failed request, the last version answering at the end")
        func consecutiveDeploys() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let up = try stage.proxy("up", try stage.spec("v1"))
            try #require(up.status == 0, "\(up.stderr)")
            let load = try LoadRun(stage, seconds: 45)
            Thread.sleep(forTimeInterval: 2)
            let began = LoadRun.nowMilliseconds
            var cycles: [Int] = []
            for n in 2...11 {
                let start = LoadRun.nowMilliseconds
                let deploy = try stage.proxy("deploy", try stage.spec("v\(n)"))
                #expect(deploy.status == 0, "deploy \(n): \(deploy.stderr)")
                cycles.append(Int(LoadRun.nowMilliseconds - start))
                guard deploy.status == 0 else { break }
            }
            let ended = LoadRun.nowMilliseconds
            let result = try load.finish()
            result.report("10 deploys (cycles \(cycles) ms)", began: began, ended: ended)
            result.expectNoLoss(answeredAfterwardsBy: "v11", after: ended)
        }

        @Test("a new version that boots in 5 s: the old one serves until it is up, no failed request")
        func slowBoot() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let up = try stage.proxy("up", try stage.spec("v1"))
            try #require(up.status == 0, "\(up.stderr)")
            let load = try LoadRun(stage, seconds: 20)
            Thread.sleep(forTimeInterval: 2)
            let slowBoot = { try stage.proxy("deploy", try stage.spec("v2", app: ["--boot-ms", "5000"], startTimeout: 15)) }
            let (deploy, result, began, ended) = try load.finish(after: slowBoot)
            #expect(deploy.status == 0, "\(deploy.stderr)")
            result.report("deploy of a 5 s boot", began: began, ended: ended)
            result.expectNoLoss(answeredAfterwardsBy: "v2", after: ended)
        }

        @Test("a listen port already taken: up fails in one line, and no instance is left running")
        func portTaken() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let squatter = try stage.host.shell("\(stage.host.fixture.rootfs)/bin/testapp --port 8080 >/dev/null 2>&1 & echo $!")
            defer { _ = try? Command.run("/bin/kill", ["-KILL", squatter.output]) }
            #expect(try waitForListener(stage))
            let up = try stage.proxy("up", try stage.spec("v1"))
            #expect(up.status != 0)
            #expect(up.stderr.contains("HAProxy did not start") && up.stderr.contains("8080"), "\(up.stderr)")
            #expect(up.stderr.split(separator: "\n").filter { !$0.hasPrefix(" \u{2714}") }.count == 1, "\(up.stderr)")
            #expect(try stage.host.berth(["ps", "-aq"]).output.isEmpty, "no instance left")
        }

        @Test("HAProxy missing: up fails in one line and makes nothing; a deploy fails the same way, v1 serving on")
        func proxyMissing() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let missing = ["BERTH_HAPROXY=/nonexistent/haproxy"]
            let v1 = try stage.spec("v1")
            let up = try stage.host.berth(DeployStage.composeArguments("up", v1), environment: missing)
            #expect(up.status != 0)
            #expect(up.stderr.contains("HAProxy is not installed (/nonexistent/haproxy, which BERTH_HAPROXY names, is missing)"),
                    "\(up.stderr)")
            #expect(up.stderr.split(separator: "\n").count == 1, "\(up.stderr)")
            #expect(try stage.host.berth(["ps", "-aq"]).output.isEmpty, "no instance")
            #expect(!(try stage.host.berth(["network", "ls"]).stdout.contains("demo_default")), "no network")

            try #require(try stage.proxy("up", v1).status == 0)
            let serving = try stage.containers(v1)
            let deploy = try stage.host.berth(DeployStage.composeArguments("deploy", try stage.spec("v2")), environment: missing)
            #expect(deploy.status != 0)
            #expect(deploy.stderr.contains("HAProxy is not installed"), "\(deploy.stderr)")
            #expect(deploy.stderr.split(separator: "\n").count == 1, "\(deploy.stderr)")
            #expect(try stage.containers(v1) == serving, "the same instances")
            let answer = try stage.host.shell("for i in 1 2 3 4; do wget -qO- http://127.0.0.1:8080/; done")
            #expect(answer.output.split(separator: "\n") == ["v1", "v1", "v1", "v1"], "\(answer.stdout)\(answer.stderr)")
        }

        private func waitForListener(_ stage: DeployStage) throws -> Bool {
            try eventually(within: 5) { try stage.host.shell("grep -q ':1F90 ' /proc/net/tcp").status == 0 }
        }

        @Test("requests of 1.5 s across a deploy: each drain waits for them, none cut")
        func slowRequests() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let v1 = try stage.spec("v1", app: ["--delay-ms", "1500"])
            let v2 = try stage.spec("v2", app: ["--delay-ms", "1500"])
            let up = try stage.proxy("up", v1)
            try #require(up.status == 0, "\(up.stderr)")
            let load = try LoadRun(stage, seconds: 14)
            Thread.sleep(forTimeInterval: 3)
            let (deploy, result, began, ended) = try load.finish(after: { try stage.proxy("deploy", v2) })
            #expect(deploy.status == 0, "\(deploy.stderr)")
            result.report("deploy with 1.5 s requests", began: began, ended: ended)
            result.expectNoLoss(answeredAfterwardsBy: "v2", after: ended)
        }

        @Test("berth killed mid-deploy: the next deploy puts the slots back, then finishes; no failed request")
        func killedMidDeploy() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let v1 = try stage.spec("v1")
            let v2 = try stage.spec("v2")
            let up = try stage.proxy("up", v1)
            try #require(up.status == 0, "\(up.stderr)")
            let load = try LoadRun(stage, seconds: 16)
            Thread.sleep(forTimeInterval: 2)
            // In the middle of the backups' cycle (it takes 1-2 s).
            try stage.killMidway("deploy", v2, after: 0.8)
            let journal = stage.host.root + "/compose/demo/journal/web.json"
            #expect(FileManager.default.fileExists(atPath: journal), "the killed deploy left its journal")
            let (again, result, began, ended) = try load.finish(after: { try stage.proxy("deploy", v2) })
            #expect(again.status == 0, "\(again.stderr)")
            result.report("deploy after a killed one", began: began, ended: ended)
            result.expectNoLoss(answeredAfterwardsBy: "v2", after: ended)
            #expect(!FileManager.default.fileExists(atPath: journal))
            let containers = try stage.host.berth(["ps", "-q"]).output.split(separator: "\n")
            #expect(containers.count == 4, "one container per slot, no orphan: \(containers)")
        }

        @Test("rollback right after a deploy is hot: v1's kept instances serve again (no new container), faster than a cold one")
        func hotRollback() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            // An app that boots in 1.5 s, as real ones do: a cold cycle waits for a boot per
            // slot group, a hot one for the standbys' boot once, before any slot moves.
            let boot = ["--boot-ms", "1500"]
            let v1 = try stage.spec("v1", app: boot)
            let up = try stage.proxy("up", v1)
            try #require(up.status == 0, "\(up.stderr)")
            let v1Instances = try stage.created(try stage.slots(v1, role: "active") + stage.slots(v1, role: "backup"))
            try #require(v1Instances.count == 4, "\(v1Instances)")
            let deploy = try stage.proxy("deploy", try stage.spec("v2", app: boot))
            try #require(deploy.status == 0, "\(deploy.stderr)")
            // The deploy kept v1's instances, stopped, as the slots' standbys.
            let kept = try stage.slots(v1, role: "standby")
            #expect(Set(kept) == Set(v1Instances.keys), "standbys \(kept), v1 \(v1Instances.keys)")
            #expect(try stage.host.berth(["ps", "-q"]).output.split(separator: "\n").count == 4, "the standbys do not run")

            let load = try LoadRun(stage, seconds: 30)
            Thread.sleep(forTimeInterval: 2)
            let hotBegan = LoadRun.nowMilliseconds
            let hot = try stage.proxy("rollback", v1)
            let hotEnded = LoadRun.nowMilliseconds
            #expect(hot.status == 0, "\(hot.stderr)")
            let serving = try stage.created(try stage.slots(v1, role: "active") + stage.slots(v1, role: "backup"))
            #expect(serving == v1Instances, "v1's very containers (ids and creation times) serve again")
            // v2's instances are the standbys now: removed by hand, the rollback to v2 is cold.
            let v2Standbys = try stage.slots(v1, role: "standby")
            #expect(v2Standbys.count == 4 && Set(v2Standbys).isDisjoint(with: v1Instances.keys), "\(v2Standbys)")
            try #require(try stage.host.berth(["rm", "-f"] + v2Standbys).status == 0)
            Thread.sleep(forTimeInterval: 1)
            let coldBegan = LoadRun.nowMilliseconds
            let cold = try stage.proxy("rollback", v1)
            let coldEnded = LoadRun.nowMilliseconds
            #expect(cold.status == 0, "\(cold.stderr)")
            #expect(cold.output.contains("rolled back web:"), "\(cold.output)")
            let result = try load.finish()
            let hotMs = Int(hotEnded - hotBegan), coldMs = Int(coldEnded - coldBegan)
            print("rollback: hot \(hotMs) ms, cold \(coldMs) ms")
            result.report("hot rollback", began: hotBegan, ended: hotEnded)
            result.report("cold rollback", began: coldBegan, ended: coldEnded)
            #expect(result.failed == 0, "\(result.summary) \(result.failures)")
            let between = result.requests.filter { $0.at > hotEnded && $0.at < coldBegan }
            #expect(!between.isEmpty && between.allSatisfy { $0.version == "v1" }, "after the hot rollback: \(Set(between.map(\.version)))")
            result.expectNoLoss(answeredAfterwardsBy: "v2", after: coldEnded)
            #expect(hotMs < coldMs, "hot \(hotMs) ms, cold \(coldMs) ms")
            #expect(Set(try stage.slots(v1, role: "active") + stage.slots(v1, role: "backup")).isDisjoint(with: v2Standbys),
                    "the cold rollback made new containers")
        }

        @Test("berth killed mid-rollback: the next rollback recovers from the journal and ends on v1's kept instances, no request lost")
        func killedMidRollback() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let v1 = try stage.spec("v1")
            let up = try stage.proxy("up", v1)
            try #require(up.status == 0, "\(up.stderr)")
            let v1Instances = Set(try stage.slots(v1, role: "active") + stage.slots(v1, role: "backup"))
            try #require(try stage.proxy("deploy", try stage.spec("v2")).status == 0)
            let load = try LoadRun(stage, seconds: 16)
            Thread.sleep(forTimeInterval: 2)
            // Past the standbys' warm-up (their start and 300 ms boot), in the backups' cycle.
            try stage.killMidway("rollback", v1, after: 1.1)
            let journal = stage.host.root + "/compose/demo/journal/web.json"
            #expect(FileManager.default.fileExists(atPath: journal), "the killed rollback left its journal")
            let left = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: journal)))) as? [String: Any]
            print("rollback killed at slot \(left?["slot"] ?? "-"), step \(left?["step"] ?? "- (warming the standbys)")")
            let (again, result, began, ended) = try load.finish(after: { try stage.proxy("rollback", v1) })
            #expect(again.status == 0, "\(again.stderr)")
            result.report("rollback after a killed one", began: began, ended: ended)
            result.expectNoLoss(answeredAfterwardsBy: "v1", after: ended)
            #expect(!FileManager.default.fileExists(atPath: journal))
            let serving = Set(try stage.slots(v1, role: "active") + stage.slots(v1, role: "backup"))
            #expect(serving == v1Instances, "v1's kept instances serve, none made anew")
            let all = try stage.host.berth(["ps", "-aq"]).output.split(separator: "\n")
            #expect(all.count == 8, "4 serving and 4 standbys, no orphan: \(all)")
        }

        @Test("up without -d: the instances' output after their names, until Ctrl-C stops them and HAProxy; up starts them again")
        func attachedUp() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let v1 = try stage.spec("v1")
            let output = stage.host.root + "/up.out"
            let up = try Spawned("/usr/bin/nsenter", ["--net=/run/netns/\(stage.host.name)", fixture.berth, "--root", stage.host.root,
                                                      "compose", "-f", v1, "-p", "demo", "up"], stdout: output, stderr: output + ".err")
            let attached = eventually(within: 60, poll: 0.2) {
                let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").filter { $0.contains("-web-") && $0.contains(" | testapp v1 listening on 3000") }
                    .count == 4
            }
            let err = { (try? String(contentsOfFile: output + ".err", encoding: .utf8)) ?? "" }
            guard attached else {
                kill(up.pid, SIGKILL)
                _ = up.wait(seconds: 10)
                Issue.record("each instance's output, after its name: \((try? String(contentsOfFile: output, encoding: .utf8)) ?? "") \(err())")
                return
            }
            let answer = try stage.host.shell("for i in 1 2 3 4; do wget -qO- http://127.0.0.1:8080/; done")
            #expect(answer.output.split(separator: "\n") == ["v1", "v1", "v1", "v1"], "\(answer.stdout)\(answer.stderr)")
            let names = try stage.containers(v1)
            let pid = try String(contentsOfFile: stage.host.root + "/compose/demo/haproxy.pid", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)

            kill(up.pid, SIGINT)
            #expect(up.wait(seconds: 60) == 0, "\(err())")
            #expect(err().contains("Service web Stopped") && err().contains("Proxy HAProxy Stopped"), "\(err())")
            #expect(try stage.host.berth(["ps", "-q"]).output.isEmpty, "no instance runs")
            let stopped = try stage.proxy("status", v1, all: true).output.split(separator: "\n").dropFirst()
            #expect(stopped.count == 4 && stopped.allSatisfy { $0.contains("Exited") }, "kept, stopped: \(stopped)")
            let proxyEnded = eventually(within: 10) {
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
                return !stat.contains("(haproxy)") || stat.contains(") Z")
            }
            #expect(proxyEnded, "HAProxy \(pid) ended")

            let again = try stage.proxy("up", v1)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(Set(try stage.containers(v1)) == Set(names), "the same containers started again")
            let back = try stage.host.shell("for i in 1 2 3 4; do wget -qO- http://127.0.0.1:8080/; done")
            #expect(back.output.split(separator: "\n") == ["v1", "v1", "v1", "v1"], "\(back.stdout)\(back.stderr)")
        }

        @Test("HAProxy killed: the next deploy starts it again from the configuration berth wrote, and goes on")
        func proxyRestarted() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let up = try stage.proxy("up", try stage.spec("v1"))
            try #require(up.status == 0, "\(up.stderr)")
            let pidFile = stage.host.root + "/compose/demo/haproxy.pid"
            let pid = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try Command.run("/bin/sh", ["-c", "pkill -KILL -P \(pid); kill -KILL \(pid)"])
            #expect(try eventually(within: 5) { try stage.host.shell("grep -q ':1F90 ' /proc/net/tcp").status != 0 })
            let deploy = try stage.proxy("deploy", try stage.spec("v2"))
            try #require(deploy.status == 0, "\(deploy.stderr)")
            let answer = try stage.host.shell("for i in 1 2 3 4; do wget -qO- http://127.0.0.1:8080/; done")
            #expect(answer.output.split(separator: "\n") == ["v2", "v2", "v2", "v2"], "\(answer.stdout)\(answer.stderr)")
            let newPid = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(newPid != pid)
        }

        @Test("two services on one HAProxy: the second's up reloads it without a failed request, and both deploy at once")
        func twoServices() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let web = try stage.proxy("up", try stage.spec("v1"))
            try #require(web.status == 0, "\(web.stderr)")
            let webLoad = try LoadRun(stage, rate: 100, seconds: 14)
            Thread.sleep(forTimeInterval: 1)
            let api = try stage.proxy("up", try stage.spec("v1", name: "api", listen: 8081))
            try #require(api.status == 0, "\(api.stderr)")
            let apiLoad = try LoadRun(stage, rate: 100, seconds: 11, port: 8081)
            Thread.sleep(forTimeInterval: 1.5)
            let webV2 = try stage.spec("v2"), apiV2 = try stage.spec("v2", name: "api", listen: 8081)
            let began = LoadRun.nowMilliseconds
            // Both deploys at once: each holds only its own service's lock.
            nonisolated(unsafe) var apiDeploy: Command.Result?
            let apiDone = DispatchSemaphore(value: 0)
            Thread {
                apiDeploy = try? stage.proxy("deploy", apiV2)
                apiDone.signal()
            }.start()
            let webDeploy = try stage.proxy("deploy", webV2)
            #expect(apiDone.wait(timeout: .now() + 120) == .success, "api's deploy ended")
            let ended = LoadRun.nowMilliseconds
            let webResult = try webLoad.finish(), apiResult = try apiLoad.finish()
            #expect(webDeploy.status == 0, "\(webDeploy.stderr)")
            #expect(apiDeploy?.status == 0, "\(apiDeploy?.stderr ?? "")")
            webResult.report("web, with api's up and deploy beside it", began: began, ended: ended)
            apiResult.report("api, deployed with web", began: began, ended: ended)
            #expect(webResult.failed == 0, "\(webResult.summary) \(webResult.failures)")
            #expect(apiResult.failed == 0, "\(apiResult.summary) \(apiResult.failures)")
            for result in [webResult, apiResult] {
                let after = result.requests.filter { $0.at > ended }
                #expect(!after.isEmpty && after.allSatisfy { $0.version == "v2" }, "after: \(Set(after.map(\.version)))")
            }
        }

        @Test("up again adopts the running instances; up of another version is refused (that is a deploy)")
        func upAgain() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let v1 = try stage.spec("v1")
            let first = try stage.proxy("up", v1)
            try #require(first.status == 0, "\(first.stderr)")
            let before = try stage.containers(v1)
            #expect(before.count == 4, "\(before)")
            let again = try stage.proxy("up", v1)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(try stage.containers(v1) == before, "the same containers")
            let other = try stage.proxy("up", try stage.spec("v2"))
            #expect(other.status != 0 && other.stderr.contains("deploy the new version"), "\(other.stderr)")
            #expect(try stage.containers(v1) == before, "untouched")
            let notUp = try stage.proxy("deploy", try stage.spec("v2", name: "api", listen: 8081))
            #expect(notUp.status != 0 && notUp.stderr.contains("is not up"), "\(notUp.stderr)")
        }

        @Test("a new version that never listens: rolled back, the old one serving throughout, a non-zero result")
        func neverHealthy() throws {
            try rolledBack(["--boot-ms", "60000"], why: "did not pass GET /up")
        }

        @Test("a new version whose /up passes once then fails: never promoted, rolled back")
        func flappingHealth() throws {
            try rolledBack(["--fail-health-after", "1"], why: "checks did not see")
        }

        private func rolledBack(_ app: [String], why: String) throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let v1 = try stage.spec("v1")
            let bad = try stage.spec("v2", app: app, startTimeout: 3)
            let up = try stage.proxy("up", v1)
            try #require(up.status == 0, "\(up.stderr)")
            let load = try LoadRun(stage, seconds: 10)
            Thread.sleep(forTimeInterval: 2)
            let (deploy, result, began, ended) = try load.finish(after: { try stage.proxy("deploy", bad) })
            result.report("rolled-back deploy (\(app.joined(separator: " ")))", began: began, ended: ended)
            #expect(deploy.status == 1)
            #expect(deploy.stderr.contains("rolled back") && deploy.stderr.contains(why), "\(deploy.stderr)")
            #expect(deploy.stderr.split(separator: "\n").count == 1 && deploy.output.isEmpty, "one line: \(deploy.stderr)")
            #expect(result.failed == 0, "\(result.summary) \(result.failures)")
            #expect(result.requests.allSatisfy { $0.version == "v1" || $0.result != "ok" }, "only v1 answered: \(result.summary)")
            let status = try stage.proxy("status", v1)
            #expect(status.output.split(separator: "\n").filter { $0.contains(" UP ") }.count == 4, "\(status.output)")
            // The service's next deploy starts clean: no journal left.
            #expect(!FileManager.default.fileExists(atPath: stage.host.root + "/compose/demo/journal/web.json"))
        }

        @Test("kill -9 of a serving instance: its requests retried elsewhere, none failed")
        func killedInstance() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let v1 = try stage.spec("v1", app: ["--delay-ms", "20"])
            let up = try stage.proxy("up", v1)
            try #require(up.status == 0, "\(up.stderr)")
            let status = try stage.proxy("status", v1)
            let a1 = try #require(status.output.split(separator: "\n").first { $0.contains("-web-a1-") }?.split(separator: " ")[1],
                                  "\(status.output)")
            let pid = try stage.host.berth(["inspect", "--format", "{{.State.Pid}}", String(a1)]).output
            try #require(Int(pid) ?? 0 > 1, "a1's pid: \(pid)")
            let load = try LoadRun(stage, seconds: 6)
            Thread.sleep(forTimeInterval: 2)
            let killed = LoadRun.nowMilliseconds
            kill(pid_t(pid) ?? 0, SIGKILL)
            let result = try load.finish()
            result.report("kill -9 of a1", began: killed, ended: killed + 1000)
            #expect(result.failed == 0, "\(result.summary) \(result.failures)")
            // Its restart policy brings it back, and HAProxy's own checks put it back in service.
            let back = try eventually(within: 20, poll: 0.2) {
                let restarts = try stage.host.berth(["inspect", "--format", "{{.RestartCount}} {{.State.Status}}", String(a1)]).output
                let slots = try stage.proxy("status", v1).output.split(separator: "\n")
                return restarts.hasSuffix(" running") && restarts != "0 running"
                    && slots.first { $0.contains("-web-a1-") }?.contains(" UP ") == true
            }
            let slots = try stage.proxy("status", v1).output
            #expect(back, "a1 restarted and UP again: \(slots)")
        }

        @Test("issue 15's project: a proxied web and a plain db; up, ps, a deploy to another image under load, down -v")
        func composeProject() throws {
            let stage = try DeployStage(fixture)
            defer { stage.tearDown() }
            let host = stage.host
            // Two images whose app says its version from the image's environment.
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
                    command: ["/bin/testapp", "--port", "3000", "--boot-ms", "300"]
                    depends_on: { db: { condition: service_healthy } }
                    healthcheck: { test: ["NONE"], interval: 100ms, timeout: 1s, retries: 3, start_period: 5s }
                    stop_grace_period: 10s
                    deploy: { replicas: 2 }
                    cgroup_parent: \(fixture.cgroupParent)
                    x-berth:
                      port: 3000
                      proxy: { listen: "127.0.0.1:8080", backups: 2, health_path: /up }
                  db:
                    image: \(StandInHost.image)
                    command: ["/bin/payload", "serve", "tcp", "5432"]
                    volumes: ["dbdata:/data"]
                    healthcheck: { test: ["CMD", "/bin/payload", "ask", "tcp", "127.0.0.1", "5432"], interval: 500ms, timeout: 2s, retries: 5 }
                    stop_grace_period: 1s
                    cgroup_parent: \(fixture.cgroupParent)
                volumes: { dbdata: {} }
                """.write(toFile: file, atomically: true, encoding: .utf8)
            func compose(_ args: [String]) throws -> Command.Result {
                try host.berth(["compose", "-f", file, "-p", "demo"] + args, timeout: 120)
            }
            let up = try compose(["up", "-d"])
            try #require(up.status == 0, "\(up.stderr)")
            let answer = try host.shell("for i in 1 2 3 4; do wget -qO- http://127.0.0.1:8080/; done")
            #expect(answer.output.split(separator: "\n") == ["v1", "v1", "v1", "v1"], "\(answer.stdout)\(answer.stderr)")
            let ps = try compose(["ps"]).output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(ps.first == ["SERVICE", "NAME", "ROLE", "IMAGE", "STATUS", "PROXY", "SESSIONS", "PORTS"], "\(ps)")
            let web = ps.filter { $0.first == "web" }
            #expect(web.filter { $0[2] == "active" && $0.contains("UP") }.count == 2, "\(ps)")
            #expect(web.filter { $0[2] == "backup" && $0.contains("UP") }.count == 2, "\(ps)")
            #expect(ps.filter { $0.first == "db" }.count == 1, "\(ps)")
            let logs = try compose(["logs", "web"])
            #expect(logs.output.split(separator: "\n").filter { $0.contains("-web-") && $0.contains("testapp v1 listening on 3000") }
                .count == 4, "each instance's output, after its name: \(logs.stdout)")

            let load = try LoadRun(stage, seconds: 12)
            Thread.sleep(forTimeInterval: 2)
            let (deploy, result, began, ended) = try load.finish(after: { try compose(["deploy", "web", "--image", "shop:v2"]) })
            #expect(deploy.status == 0, "\(deploy.stderr)")
            #expect(deploy.output.hasPrefix("deployed web: shop:v1 -> shop:v2 in "), "\(deploy.output)")
            result.report("compose deploy web --image shop:v2", began: began, ended: ended)
            result.expectNoLoss(answeredAfterwardsBy: "v2", after: ended)
            let moved = try compose(["ps"]).output.split(separator: "\n").filter { $0.hasPrefix("web ") }
            #expect(moved.count == 4 && moved.allSatisfy { $0.contains("shop:v2") }, "\(moved)")

            let pidFile = host.root + "/compose/demo/haproxy.pid"
            let pid = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let down = try compose(["down", "-v"])
            #expect(down.status == 0, "\(down.stderr)")
            #expect(try host.berth(["ps", "-aq"]).output.isEmpty, "no container left")
            #expect(!(try host.berth(["network", "ls"]).output.contains("demo_")), "no network of the project left")
            #expect(try host.berth(["volume", "ls", "-q"]).output.isEmpty, "no volume left")
            #expect(!FileManager.default.fileExists(atPath: host.root + "/compose/demo"), "no state directory left")
            // Ended: gone, a zombie, or the pid taken by another program.
            let proxyEnded = eventually(within: 5) {
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
                return !stat.contains("(haproxy)") || stat.contains(") Z")
            }
            #expect(proxyEnded, "HAProxy \(pid) ended")
        }
    }
}

extension Host {
    static let hasHAProxy = FileManager.default.isExecutableFile(atPath: "/usr/sbin/haproxy")
}

/// A stand-in host with a project "demo" whose service "web" listens on 127.0.0.1:8080 there;
/// `tearDown` takes the project down, ends HAProxy, and removes every container and both
/// namespaces, also after a failure.
struct DeployStage {
    let host: StandInHost

    init(_ fixture: Fixture) throws { host = try StandInHost(fixture) }

    /// A compose.yaml with the service `name` answering `version`: 2 actives, 2 backups, a 300 ms
    /// boot, no container check; its timings give a new instance `startTimeout` seconds (start
    /// period + (retries+1) × (interval+timeout)). Its own file, so concurrent commands of the
    /// test never share one.
    func spec(_ version: String, app: [String] = [], startTimeout: Int = 10, name: String = "web",
              listen: Int = 8080) throws -> String {
        let command = ["/bin/testapp", "--port", "3000", "--version", version, "--boot-ms", "300"] + app
        let retries = startTimeout >= 5 ? 3 : 1
        let startPeriod = max(0, startTimeout * 1000 - (retries + 1) * 1100)
        let words = String(decoding: try JSONSerialization.data(withJSONObject: command, options: .withoutEscapingSlashes), as: UTF8.self)
        let text = """
            services:
              \(name):
                image: \(StandInHost.image)
                command: \(words)
                healthcheck: { test: ["NONE"], interval: 100ms, timeout: 1s, retries: \(retries), start_period: \(startPeriod)ms }
                stop_grace_period: 10s
                deploy: { replicas: 2 }
                cgroup_parent: \(host.fixture.cgroupParent)
                x-berth:
                  port: 3000
                  proxy: { listen: "127.0.0.1:\(listen)", backups: 2, health_path: /up }
            """
        let path = host.root + "/\(name)-\(version)-\(UUID().uuidString.prefix(6)).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `berth compose` on a spec's file for `action`: up (detached), deploy, rollback, status (ps), down (-v).
    static func composeArguments(_ action: String, _ spec: String) -> [String] {
        let service = String(URL(fileURLWithPath: spec).lastPathComponent.prefix { $0 != "-" })
        let command: [String] = switch action {
        case "up": ["up", "-d"]
        case "deploy": ["deploy", service]
        case "rollback": ["rollback", service]
        case "status": ["ps", service]
        default: ["down", "-v"]
        }
        return ["compose", "-f", spec, "-p", "demo"] + command
    }

    func proxy(_ action: String, _ spec: String, all: Bool = false, timeout: Double = 120) throws -> Command.Result {
        try host.berth(Self.composeArguments(action, spec) + (all ? ["-a"] : []), timeout: timeout)
    }

    /// Starts `berth compose ACTION` in the stand-in host and kills it with SIGKILL `seconds` later:
    /// berth killed in the middle of a deploy or a rollback, as the crash tests need it.
    func killMidway(_ action: String, _ spec: String, after seconds: Double) throws {
        let berth = Process()
        berth.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        berth.arguments = ["--net=/run/netns/\(host.name)", host.fixture.berth, "--root", host.root]
            + Self.composeArguments(action, spec)
        berth.standardOutput = FileHandle.nullDevice
        berth.standardError = FileHandle.nullDevice
        try berth.run()
        Thread.sleep(forTimeInterval: seconds)
        kill(berth.processIdentifier, SIGKILL)
        berth.waitUntilExit()
    }

    /// The ids of the service's containers in `role` (active, backup, standby), by `compose ps -a`.
    func slots(_ spec: String, role: String) throws -> [String] {
        let lines = try host.berth(Self.composeArguments("status", spec) + ["-a", "--format", "json"]).output.split(separator: "\n")
        return lines.compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["Role"] as? String == role else { return nil }
            return object["ID"] as? String
        }
    }

    /// Each container's creation time, by its id.
    func created(_ ids: [String]) throws -> [String: String] {
        var times: [String: String] = [:]
        for id in ids { times[id] = try host.berth(["inspect", "--format", "{{.Created}}", id]).output }
        return times
    }

    /// The service's containers, by `compose ps`'s NAME column.
    func containers(_ spec: String) throws -> [String] {
        try proxy("status", spec).output.split(separator: "\n").dropFirst().map { String($0.split(separator: " ")[1]) }
    }

    func tearDown() {
        if let spec = try? self.spec("down") { _ = try? proxy("down", spec, timeout: 60) }
        // Whatever the down left: HAProxy's master (its workers end with it) by its pid file.
        if let text = try? String(contentsOfFile: host.root + "/compose/demo/haproxy.pid", encoding: .utf8),
           let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 {
            _ = try? Command.run("/bin/sh", ["-c", "kill -TERM \(pid); sleep 1; pkill -KILL -P \(pid); kill -KILL \(pid)"])
        }
        host.remove()
    }
}

/// One run of the load generator in the stand-in host against the proxy, in the background.
struct LoadRun {
    let process: Process
    let output: Pipe
    let records: String
    let seconds: Int

    static var nowMilliseconds: Double { Date().timeIntervalSince1970 * 1000 }

    init(_ stage: DeployStage, rate: Int = 200, seconds: Int, port: Int = 8080) throws {
        self.seconds = seconds
        records = stage.host.root + "/load-\(UUID().uuidString.prefix(6)).txt"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        process.arguments = ["--net=/run/netns/\(stage.host.name)", stage.host.fixture.loadgen, "127.0.0.1", String(port),
                             String(rate), String(seconds), "3000", records]
        output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    /// Waits for the run's end (its own bound, and 10 s more here) and reads what it recorded.
    /// Runs `command` (a deploy, a rollback) while the load goes on, then ends the load: the
    /// command's result, the load's, and the window the command took (Unix ms).
    func finish(after command: () throws -> Command.Result) throws -> (Command.Result, LoadResult, Double, Double) {
        let began = Self.nowMilliseconds
        let result = try command()
        let ended = Self.nowMilliseconds
        return (result, try finish(), began, ended)
    }

    func finish() throws -> LoadResult {
        let deadline = Date().addingTimeInterval(Double(seconds) + 10)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let summary = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = try String(contentsOfFile: records, encoding: .utf8).split(separator: "\n")
        // Every request counts: the version field is the answer's first line (HAProxy's own 503
        // page has spaces in it), so it is all the words between the status and the last one.
        let requests = lines.compactMap { line -> LoadResult.Request? in
            let f = line.split(separator: " ")
            guard f.count >= 6, let at = Double(f[0]), let latency = Double(f[1]) else { return nil }
            return LoadResult.Request(at: at, latency: latency, result: String(f[2]), version: f[4..<(f.count - 1)].joined(separator: " "))
        }
        #expect(requests.count == lines.count, "every line of the load's records read")
        return LoadResult(summary: summary.trimmingCharacters(in: .whitespacesAndNewlines), requests: requests)
    }
}

struct LoadResult {
    struct Request {
        /// When it was scheduled (Unix ms), its latency from then (ms), "ok" or the failure's kind.
        let at: Double
        let latency: Double
        let result: String
        let version: String
    }

    let summary: String
    let requests: [Request]

    var sent: Int { requests.count }
    var failed: Int { requests.filter { $0.result != "ok" }.count }
    /// The failures, by kind and time.
    var failures: [String] { requests.filter { $0.result != "ok" }.prefix(10).map { "\($0.result)@\(Int($0.at))" } }

    func p99(_ range: ClosedRange<Double>) -> Double {
        let latencies = requests.filter { range.contains($0.at) && $0.result == "ok" }.map(\.latency).sorted()
        return latencies.isEmpty ? 0 : latencies[latencies.count * 99 / 100]
    }

    /// Issue 15's bar: no request failed, and every one sent after `ended` (the cycle's end) was
    /// answered by `version`.
    func expectNoLoss(answeredAfterwardsBy version: String, after ended: Double,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(failed == 0, "\(summary) \(failures)", sourceLocation: sourceLocation)
        let after = requests.filter { $0.at > ended }
        #expect(!after.isEmpty && after.allSatisfy { $0.version == version }, "after the cycle: \(Set(after.map(\.version)))",
                sourceLocation: sourceLocation)
    }

    /// The figures issue 15 asks for, in the test's output.
    func report(_ what: String, began: Double, ended: Double) {
        let first = requests.first?.at ?? began
        let steady = p99(first...began), during = p99(began...ended)
        func ms(_ value: Double) -> String { String(Double(Int(value * 10)) / 10) }
        print("\(what): cycle \(Int(ended - began)) ms; p99 steady \(ms(steady)) ms, during \(ms(during)) ms; \(summary)")
    }
}
