import CommandLineParsing
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
