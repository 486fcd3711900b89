import Foundation
import Testing

extension Containers {
    /// Health checks (issue 14): run by a detached container's monitor through `berth
    /// health-check`, inside the container, on their interval; shown by ps and inspect.
    @Suite("HealthChecks")
    struct HealthChecks {
        let fixture = Fixture.shared
        /// Ends at once on SIGTERM.
        static let polite = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]

        /// inspect's State.Health, or nil.
        private func health(_ root: LifecycleRoot, _ name: String) throws -> [String: Any]? {
            try root.state(name)["Health"] as? [String: Any]
        }

        private func healthStatus(_ root: LifecycleRoot, _ name: String) throws -> String? {
            try health(root, name)?["Status"] as? String
        }

        private func log(_ health: [String: Any]?) -> [[String: Any]] {
            health?["Log"] as? [[String: Any]] ?? []
        }

        @Test("a check that fails makes the container unhealthy, and healthy again once it passes")
        func failsAndRecovers() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "web", "--health-cmd", "echo checking; test -e /tmp/ok",
                                      "--health-interval", "200ms", "--health-retries", "2"], Self.polite)
            let unhealthy = try root.waitUntil(seconds: 20) { try healthStatus(root, "web") == "unhealthy" }
            #expect(unhealthy, "never unhealthy: \(String(describing: try? health(root, "web")))")
            let failing = try health(root, "web")
            #expect((failing?["FailingStreak"] as? Int ?? 0) >= 2)
            let failures = log(failing)
            #expect(!failures.isEmpty && failures.count <= 5, "\(failures)")
            #expect(failures.last?["ExitCode"] as? Int == 1)
            #expect((failures.last?["Output"] as? String)?.contains("checking") == true, "\(failures)")
            let unhealthyStatus = try root.status("web") ?? ""
            #expect(unhealthyStatus.hasSuffix("(unhealthy)"), "\(unhealthyStatus)")

            let touched = try root.berth(["exec", "web", "touch", "/tmp/ok"])
            #expect(touched.status == 0, "\(touched.stderr)")
            #expect(try root.waitUntil(seconds: 20) { try healthStatus(root, "web") == "healthy" })
            let healthy = try health(root, "web")
            #expect(healthy?["FailingStreak"] as? Int == 0)
            #expect(log(healthy).last?["ExitCode"] as? Int == 0)
            let healthyStatus = try root.status("web") ?? ""
            #expect(healthyStatus.hasSuffix("(healthy)"), "\(healthyStatus)")
            // Five results at most, whatever the number of checks.
            #expect(try root.waitUntil(seconds: 20) { log(try health(root, "web")).count == 5 })
            Thread.sleep(forTimeInterval: 0.6)
            #expect(log(try health(root, "web")).count == 5)
        }

        @Test("a check running past its timeout is killed and counts as a failure")
        func timesOut() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "slow", "--health-cmd", "sleep 30", "--health-timeout", "300ms",
                                      "--health-interval", "200ms", "--health-retries", "1"], Self.polite)
            #expect(try root.waitUntil(seconds: 20) { try healthStatus(root, "slow") == "unhealthy" })
            let result = log(try health(root, "slow")).last ?? [:]
            #expect(result["ExitCode"] as? Int == -1)
            #expect((result["Output"] as? String)?.contains("exceeded timeout") == true, "\(result)")
            // Killed at the timeout: its start and end are well under the command's 30 s apart.
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            if let start = (result["Start"] as? String).flatMap(formatter.date(from:)),
               let end = (result["End"] as? String).flatMap(formatter.date(from:)) {
                #expect(end.timeIntervalSince(start) < 5, "\(result)")
            }
        }

        @Test("a new container is starting until its first result; the start period keeps failures from counting; a restart starts over")
        func startingAndRestart() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            // The default interval, 30 s: nothing has run yet.
            _ = try root.runDetached(["--name", "fresh", "--health-cmd", "true"], Self.polite)
            #expect(try healthStatus(root, "fresh") == "starting")
            #expect(try root.status("fresh")?.hasSuffix("(health: starting)") == true)
            // A container without a check has no Health, and ps shows none.
            _ = try root.runDetached(["--name", "plain"], Self.polite)
            #expect(try health(root, "plain") == nil)
            let plainStatus = try root.status("plain") ?? ""
            #expect(plainStatus.hasPrefix("Up") && !plainStatus.contains("health"), "\(plainStatus)")
            // --no-healthcheck: none either.
            _ = try root.runDetached(["--name", "none", "--no-healthcheck"], Self.polite)
            #expect(try health(root, "none") == nil)

            _ = try root.runDetached(["--name", "late", "--health-cmd", "false", "--health-interval", "200ms",
                                      "--health-retries", "1", "--health-start-period", "10s"], Self.polite)
            // Failures inside the start period are logged but do not count. (10 s: in the
            // software-emulated VM on a busy host, 3 s had passed before the first result was read.)
            #expect(try root.waitUntil(seconds: 10) { !log(try health(root, "late")).isEmpty })
            let early = try health(root, "late")
            #expect(early?["Status"] as? String == "starting", "\(String(describing: early))")
            #expect(early?["FailingStreak"] as? Int == 0)
            #expect(try root.waitUntil(seconds: 30) { try healthStatus(root, "late") == "unhealthy" })
            let restarted = try root.berth(["restart", "late"])
            #expect(restarted.status == 0, "\(restarted.stderr)")
            let after = try health(root, "late")
            #expect(after?["Status"] as? String == "starting", "\(String(describing: after))")
            #expect(after?["FailingStreak"] as? Int == 0)
        }

        @Test("a foreground run's checks run beside it, inside the container, and end with it")
        func foregroundRun() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            // The command succeeds only when a check ran inside the container while it ran.
            let r = try root.berth(["run", "--cgroup-parent", fixture.cgroupParent, "--name", "fg", "--health-cmd",
                                    "touch /tmp/checked", "--health-interval", "200ms", LifecycleRoot.image,
                                    "sh", "-c", "for i in $(seq 50); do test -e /tmp/checked && exit 0; sleep 0.1; done; exit 1"])
            #expect(r.status == 0, "no check ran during the foreground run: \(r.stderr)")
            let results = log(try health(root, "fg"))
            #expect(results.first?["ExitCode"] as? Int == 0, "\(results)")
            let helpersGone = root.waitUntil(seconds: 10) {
                Kernel.processes(mentioning: root.path).allSatisfy { !Kernel.commandLine($0).contains("health-check") }
            }
            #expect(helpersGone, "the foreground run's check loop outlived its container")
        }

        @Test("stop while a long check runs is as fast as without a check, and leaves nothing behind")
        func stopDuringACheck() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "plain"], Self.polite)
            var started = Date()
            let plainStop = try root.berth(["stop", "plain"])
            let plainTime = Date().timeIntervalSince(started)
            #expect(plainStop.status == 0, "\(plainStop.stderr)")

            _ = try root.runDetached(["--name", "checked", "--health-cmd", "sleep 60", "--health-interval", "100ms",
                                      "--health-timeout", "2m"], Self.polite)
            let cgroup = try root.cgroup("checked")
            // The check's sleep runs inside the container's cgroup.
            #expect(root.waitUntil(seconds: 20) {
                (Kernel.cgroupProcs(cgroup) ?? []).contains { Kernel.commandLine($0).contains("sleep 60") }
            }, "the health check never ran inside the container")
            started = Date()
            let checkedStop = try root.berth(["stop", "checked"])
            let checkedTime = Date().timeIntervalSince(started)
            #expect(checkedStop.status == 0, "\(checkedStop.stderr)")
            #expect(checkedTime < plainTime + 1.5, "stop took \(checkedTime) s with a check running, \(plainTime) s without")
            #expect(try root.state("checked")["Status"] as? String == "exited")
            let helpersGone = root.waitUntil(seconds: 10) {
                Kernel.processes(mentioning: root.path).allSatisfy { !Kernel.commandLine($0).contains("health-check") }
            }
            #expect(helpersGone, "a health-check helper outlived its container")
            let removed = try root.berth(["rm", "checked", "plain"])
            #expect(removed.status == 0, "\(removed.stderr)")
            #expect(root.leftovers().isEmpty, "\(root.leftovers())")
        }
    }
}
