import CommandLineParsing
import Containers
import ImageStore
import Testing
@testable import berth

/// The `--health-*` flags, HEALTHCHECK in `--change`, and the figures of `berth stats`.
@Suite("health flags and stats format") struct HealthAndStatsTests {
    @Test("Go durations", arguments: [
        ("200ms", Int64(200_000_000)), ("30s", 30_000_000_000), ("1m30s", 90_000_000_000), ("1.5s", 1_500_000_000),
        ("2h", 7_200_000_000_000), ("0", 0), ("10us", 10_000), ("7ns", 7), ("1h1m1s", 3_661_000_000_000),
    ])
    func durations(text: String, nanoseconds: Int64) {
        #expect(GoDuration.parse(text) == nanoseconds)
    }

    @Test("text that is not a duration", arguments: ["", "5", "s", "-1s", "1x", "1.2.3s", "1 s", "ms5", "99999999999h"])
    func notDurations(text: String) {
        #expect(GoDuration.parse(text) == nil)
    }

    @Test("durations described as Docker prints them", arguments: [
        (Int64(200_000_000), "200ms"), (30_000_000_000, "30s"), (1_500_000_000, "1.5s"), (90_000_000_000, "1m30s"),
        (500, "500ns"),
    ])
    func described(nanoseconds: Int64, text: String) {
        #expect(GoDuration.describe(nanoseconds) == text)
    }

    @Test("run's health flags become a check over the image's")
    func healthFlags() throws {
        let run = try RunCommandTests.run(["--health-cmd", "curl -f localhost", "--health-interval", "200ms",
                                           "--health-retries", "5", "--health-start-period", "1m", "img"])
        #expect(run.healthCheck == HealthCheck(test: ["CMD-SHELL", "curl -f localhost"], interval: 200_000_000,
                                               startPeriod: 60_000_000_000, retries: 5))
        #expect(try RunCommandTests.run(["img"]).healthCheck == nil)
        #expect(try RunCommandTests.run(["--no-healthcheck", "img"]).healthCheck == HealthCheck(test: ["NONE"]))
        // Only the timing: the image's test stays.
        let image = OCIImage.Healthcheck(test: ["CMD", "/check"], interval: 5_000_000_000, retries: 2)
        let timing = try RunCommandTests.run(["--health-timeout", "3s", "img"]).healthCheck
        let merged = HealthCheck.resolved(image: image, flags: timing)
        #expect(merged == HealthCheck(test: ["CMD", "/check"], interval: 5_000_000_000, timeout: 3_000_000_000, retries: 2))
        #expect(merged?.command == ["/check"])
        #expect(HealthCheck(test: ["CMD-SHELL", "a && b"]).command == ["/bin/sh", "-c", "a && b"])
        #expect(HealthCheck(test: ["NONE"]).command == nil)
        #expect(HealthCheck.resolved(image: image, flags: HealthCheck(test: ["NONE"]))?.command == nil)
    }

    @Test("bad health flags are refused", arguments: [
        (["--health-interval", "soon"], "--health-interval soon is not a duration"),
        (["--health-interval", "10us"], "--health-interval 10us is too short"),
        (["--health-retries", "0"], "--health-retries 0"),
        (["--no-healthcheck", "--health-cmd", "true"], "--no-healthcheck conflicts with --health-cmd"),
        (["--health-cmd", ""], "--health-cmd needs a command"),
    ])
    func badHealthFlags(flags: [String], message: String) {
        #expect {
            _ = try RunCommandTests.run(flags + ["img"])
        } throws: { error in
            (error as? UsageError)?.message.hasPrefix(message) == true
        }
    }

    @Test("HEALTHCHECK in --change")
    func healthcheckChange() throws {
        let config = try ConfigChangeTests.applied(["HEALTHCHECK --interval=5s --retries=2 CMD test -e /ok"])
        #expect(config.healthcheck == OCIImage.Healthcheck(test: ["CMD-SHELL", "test -e /ok"], interval: 5_000_000_000, retries: 2))
        let json = try ConfigChangeTests.applied(["HEALTHCHECK CMD [\"/check\", \"-q\"]"])
        #expect(json.healthcheck?.test == ["CMD", "/check", "-q"])
        #expect(try ConfigChangeTests.applied(["HEALTHCHECK NONE"]).healthcheck?.test == ["NONE"])
        #expect(throws: UsageError.self) { try ConfigChange.parse("HEALTHCHECK --every=5s CMD true") }
        #expect(throws: UsageError.self) { try ConfigChange.parse("HEALTHCHECK --interval=5s") }
    }

    @Test("sizes as Docker prints them", arguments: [
        (UInt64(0), "0B", "0B"), (648, "648B", "648B"), (1234, "1.205KiB", "1.23kB"), (1_572_864, "1.5MiB", "1.57MB"),
        (67_108_864, "64MiB", "67.1MB"), (1_073_741_824, "1GiB", "1.07GB"), (999_999, "976.6KiB", "1e+03kB"),
    ])
    func sizes(bytes: UInt64, binary: String, decimal: String) {
        #expect(StatsFormat.binarySize(bytes) == binary)
        #expect(StatsFormat.decimalSize(bytes) == decimal)
    }

    @Test("percentages with two decimals")
    func percentages() {
        #expect(StatsFormat.percent(0) == "0.00%")
        #expect(StatsFormat.percent(12.345) == "12.35%" || StatsFormat.percent(12.345) == "12.34%")
        #expect(StatsFormat.percent(100) == "100.00%")
        #expect(StatsFormat.percent(3.05) == "3.05%")
    }

    @Test("a usage row: CPU share from two readings, memory against its limit")
    func usageRow() {
        let earlier = ContainerUsage(cpuNanoseconds: 1_000_000_000, memoryBytes: 0, memoryLimit: 1, networkReceived: 0,
                                     networkSent: 0, blockRead: 0, blockWritten: 0, pids: 1, takenAt: 10_000_000_000)
        let later = ContainerUsage(cpuNanoseconds: 1_250_000_000, memoryBytes: 1_572_864, memoryLimit: 67_108_864,
                                   networkReceived: 1234, networkSent: 648, blockRead: 0, blockWritten: 4096, pids: 2,
                                   takenAt: 10_500_000_000)
        #expect(later.cpuPercent(since: earlier) == 50)
        #expect(earlier.cpuPercent(since: later) == 0)
        var record = ContainerRecord(id: String(repeating: "ab", count: 32), name: "web", created: "", path: "sh", args: [],
                                     image: "busybox", imageManifest: "",
                                     config: ContainerSettings(image: "busybox", hostname: "", user: "", env: [], cmd: nil,
                                                               entrypoint: nil, workingDir: "", tty: false, openStdin: false),
                                     hostConfig: HostSettings(autoRemove: false, binds: [], memory: 0, nanoCpus: 0, pidsLimit: 0,
                                                              readonlyRootfs: false, networkMode: "none", privileged: false,
                                                              cgroupParent: "berth", cgroup: "berth/x", restartPolicy: RestartPolicy()))
        record.name = "web"
        #expect(StatsCommand.row(record, later, since: earlier, noTrunc: false)
                == ["abababababab", "web", "50.00%", "1.5MiB / 64MiB", "2.34%", "1.23kB / 648B", "0B / 4.1kB", "2"])
    }
}
