@testable import Build
import ImageStore
import Testing

/// What RUN and HEALTHCHECK instructions mean, without a build.
@Suite("Instruction meanings") struct InstructionMeaningTests {
    func instruction(_ text: String) throws -> Instruction {
        try #require(try Dockerfile.parse("FROM x\n" + text).instructions.last)
    }

    @Test func runForms() throws {
        let shell = ["/bin/sh", "-c"]
        #expect(Builder.runCommand(try instruction("RUN echo hi"), shell: shell) == ["/bin/sh", "-c", "echo hi"])
        #expect(Builder.runCommand(try instruction("RUN [\"echo\", \"hi\"]"), shell: shell) == ["echo", "hi"])
        #expect(Builder.runCommand(try instruction("RUN echo hi"), shell: ["/bin/bash", "-ec"]) == ["/bin/bash", "-ec", "echo hi"])
        // A lone heredoc is the script; after a command it is the shell's own heredoc.
        #expect(Builder.runCommand(try instruction("RUN <<EOF\necho a\necho b\nEOF\n"), shell: shell)
                == ["/bin/sh", "-c", "echo a\necho b\n"])
        #expect(Builder.runCommand(try instruction("RUN cat <<EOF > /f\nline\nEOF\n"), shell: shell)
                == ["/bin/sh", "-c", "cat <<EOF > /f\nline\nEOF"])
    }

    @Test func healthchecks() throws {
        let check = try Builder.healthcheck(try instruction("HEALTHCHECK --interval=30s --timeout=3s --start-period=1m --retries=2 CMD curl -f x"),
                                            shell: ["/bin/sh", "-c"])
        #expect(check == OCIImage.Healthcheck(test: ["CMD-SHELL", "curl -f x"], interval: 30_000_000_000, timeout: 3_000_000_000,
                                              startPeriod: 60_000_000_000, retries: 2))
        #expect(try Builder.healthcheck(try instruction("HEALTHCHECK CMD [\"/bin/check\", \"-q\"]"), shell: []).test
                == ["CMD", "/bin/check", "-q"])
        #expect(try Builder.healthcheck(try instruction("HEALTHCHECK NONE"), shell: []).test == ["NONE"])
        #expect(throws: BuildError.self) { try Builder.healthcheck(try instruction("HEALTHCHECK --retries=x CMD true"), shell: []) }
        #expect(throws: BuildError.self) { try Builder.healthcheck(try instruction("HEALTHCHECK true"), shell: []) }
    }

    @Test func stopSignals() {
        #expect(ContainerSignalName.isValid("SIGTERM") && ContainerSignalName.isValid("kill") && ContainerSignalName.isValid("9"))
        #expect(!ContainerSignalName.isValid("SIGNOPE") && !ContainerSignalName.isValid("99"))
    }
}
