import CommandLineParsing
import Containers
import ImageStore
import Testing
@testable import berth

@Suite("--change") struct ConfigChangeTests {
    static func applied(_ changes: [String], to start: OCIImage.ExecutionConfig = .init()) throws -> OCIImage.ExecutionConfig {
        var config = start
        for text in changes { try ConfigChange.parse(text).apply(&config) }
        return config
    }

    @Test func jsonAndShellForms() throws {
        #expect(try Self.applied(["CMD [\"cat\", \"/x\"]"]).cmd == ["cat", "/x"])
        #expect(try Self.applied(["CMD echo hi there"]).cmd == ["/bin/sh", "-c", "echo hi there"])
        #expect(try Self.applied(["entrypoint [\"/init\"]"]).entrypoint == ["/init"])
    }

    @Test func envReplacesAndAppends() throws {
        let config = try Self.applied(["ENV A=1 B=\"two words\"", "ENV A 3"], to: .init(env: ["PATH=/bin", "A=0"]))
        #expect(config.env == ["PATH=/bin", "B=two words", "A=3"])
    }

    @Test func theRest() throws {
        let config = try Self.applied(["WORKDIR /srv", "USER nobody", "EXPOSE 80 53/udp", "LABEL a=b",
                                       "VOLUME [\"/data\"]", "STOPSIGNAL SIGQUIT"])
        #expect(config.workingDir == "/srv")
        #expect(config.user == "nobody")
        #expect(config.exposedPorts?.keys.sorted() == ["53/udp", "80/tcp"])
        #expect(config.labels == ["a": "b"])
        #expect(config.volumes?.keys.sorted() == ["/data"])
        #expect(config.stopSignal == "SIGQUIT")
    }

    @Test(arguments: [
        ("RUN echo", "unsupported instruction RUN"),
        ("CMD", "CMD needs a value"),
        ("CMD [1, 2]", "not a JSON array of strings"),
        ("WORKDIR srv", "WORKDIR must be an absolute path"),
        ("EXPOSE http", "http/tcp is not a port number"),
        ("ENV A=\"open", "unterminated quote"),
    ])
    func badChangesAreRefused(text: String, message: String) {
        let error = #expect(throws: UsageError.self) { try ConfigChange.parse(text) }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }
}

@Suite("run's detached options") struct DetachedRunOptionTests {
    static func run(_ words: [String]) throws -> Run {
        guard case .run(let run) = try Berth.parse(["run"] + words) else { throw UsageError("not a run") }
        return run
    }

    @Test func logOptionsAndTheirDefaults() throws {
        let plain = try Self.run(["-d", "img", "sh"])
        #expect(plain.logMaxSize == 10 * 1024 * 1024 && plain.logMaxFiles == 2)
        let set = try Self.run(["-d", "--log-opt", "max-size=4m", "--log-opt", "max-file=5", "img", "sh"])
        #expect(set.logMaxSize == 4 * 1024 * 1024 && set.logMaxFiles == 5)
        #expect(try Self.run(["-d", "--log-opt", "max-size=0", "img"]).logMaxSize == 0)
    }

    @Test(arguments: [
        (["--log-opt", "max-size=lots", "img"], "--log-opt max-size=lots: not a size"),
        (["--log-opt", "max-file=0", "img"], "--log-opt max-file=0: give a number of files from 1 to 1000"),
        (["--log-opt", "mode=non-blocking", "img"], "unsupported --log-opt \"mode=non-blocking\""),
        (["--restart", "always", "img"], "--restart needs -d"),
        (["-d", "--rm", "--restart", "always", "img"], "--restart and --rm conflict"),
        (["-d", "--restart", "sometimes", "img"], "unknown --restart policy \"sometimes\""),
        (["-d", "--rootfs", "/r", "sh"], "-d needs an image"),
    ])
    func refused(words: [String], message: String) {
        let error = #expect(throws: UsageError.self) { try Self.run(words) }
        #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "")")
    }

    @Test func restartPolicies() throws {
        #expect(try Self.run(["-d", "--restart", "on-failure:3", "img"]).restart == RestartPolicy(name: "on-failure", maximumRetryCount: 3))
        let policy = RestartPolicy(name: "on-failure", maximumRetryCount: 2)
        #expect(policy.shouldRestart(exitCode: 1, restarts: 1, stoppedByUser: false))
        #expect(!policy.shouldRestart(exitCode: 1, restarts: 2, stoppedByUser: false))
        #expect(!policy.shouldRestart(exitCode: 0, restarts: 0, stoppedByUser: false))
        #expect(!RestartPolicy(name: "always").shouldRestart(exitCode: 0, restarts: 9, stoppedByUser: true))
        #expect(RestartPolicy().delayMilliseconds(step: 0) == 100)
        #expect(RestartPolicy().delayMilliseconds(step: 3) == 800)
        #expect(RestartPolicy().delayMilliseconds(step: 40) == 60_000)
        #expect(RestartPolicy.backOffStep(after: 6, ranSeconds: 9) == 6)
        #expect(RestartPolicy.backOffStep(after: 6, ranSeconds: 10) == 0, "a steady run starts the back-off over")
    }
}
