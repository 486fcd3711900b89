@testable import Build
import Testing

/// The Dockerfile's lexer and parser: a table of Dockerfiles and what they must parse to, and a
/// table of malformed ones with the exact line of the error.
@Suite("Dockerfile parser") struct DockerfileParserTests {
    @Test func commentsContinuationsAndCaseInsensitiveNames() throws {
        let file = try Dockerfile.parse("""
            # a comment
            from busybox
            run echo a \\
                # a comment inside is skipped
                && echo b

            Env A=1
            """)
        #expect(file.instructions.map(\.name) == ["FROM", "RUN", "ENV"])
        #expect(file.instructions[1].text == "echo a     && echo b")
        #expect(file.instructions.map(\.line) == [2, 3, 7])
    }

    @Test func directivesOnlyAtTheTop() throws {
        let file = try Dockerfile.parse("# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN a `\n  b\n")
        #expect(file.escape == "`")
        #expect(file.syntax == "docker/dockerfile:1")
        #expect(file.instructions[1].text == "a   b")
        let late = try Dockerfile.parse("FROM x\n# escape=`\nRUN a \\\n b\n")
        #expect(late.escape == "\\")
        #expect(late.instructions[1].text == "a  b")
    }

    @Test func execAndShellForms() throws {
        let file = try Dockerfile.parse("FROM x\nCMD [\"sh\", \"-c\", \"echo hi\"]\nENTRYPOINT echo [not json\nVOLUME [\"/a\", \"/b\"]\n")
        #expect(file.instructions[1].json == ["sh", "-c", "echo hi"])
        #expect(file.instructions[2].json == nil)
        #expect(file.instructions[3].json == ["/a", "/b"])
    }

    @Test func flags() throws {
        let file = try Dockerfile.parse("FROM --platform=linux/amd64 x AS b\nCOPY --from=b --chown=1:2 --chmod=755 --link a /b\n")
        #expect(file.instructions[0].flag("platform") == "linux/amd64")
        let copy = file.instructions[1]
        #expect(copy.flags.map(\.name) == ["from", "chown", "chmod", "link"])
        #expect(copy.flag("link") == "true")
        #expect(copy.text == "a /b")
    }

    @Test func heredocs() throws {
        let file = try Dockerfile.parse("""
            FROM x
            RUN <<EOF
            echo one
            echo two
            EOF
            COPY <<-"END" /etc/conf
            \tkeep $HOME
            \tEND
            RUN cat <<A <<B
            a
            A
            b
            B
            ENV X=1
            """)
        #expect(file.instructions.map(\.name) == ["FROM", "RUN", "COPY", "RUN", "ENV"])
        #expect(file.instructions[1].heredocs == [.init(name: "EOF", body: "echo one\necho two\n", expands: true)])
        #expect(file.instructions[2].heredocs == [.init(name: "END", body: "keep $HOME\n", expands: false)])
        #expect(file.instructions[3].heredocs.map(\.name) == ["A", "B"])
        #expect(file.instructions[4].line == 14)
    }

    @Test(arguments: [
        ("FROM x\nCOPPY a b\n", "Dockerfile:2: unknown instruction COPPY (did you mean COPY?)"),
        ("FROM x\n\nFROBNICATE\n", "Dockerfile:3: unknown instruction FROBNICATE"),
        ("FROM x\nCOPY --frm=a b c\n", "Dockerfile:2: unknown flag --frm for COPY"),
        ("FROM x\nSHELL /bin/bash -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form, as in SHELL [\"/bin/sh\", \"-c\"]"),
        ("FROM x\nRUN <<EOF\necho\n", "Dockerfile:2: the heredoc <<EOF is never ended: no line EOF follows it"),
        ("FROM x\nWORKDIR\n", "Dockerfile:2: WORKDIR requires at least one argument"),
    ])
    func malformed(text: String, message: String) {
        #expect(throws: BuildError(.invalidArgument, message)) { try Dockerfile.parse(text) }
    }

    @Test func stagesMetaArgsAndTargets() throws {
        let file = try Dockerfile.parse(
            "ARG V=1.0\nARG IMG=busybox\nFROM ${IMG}:$V AS Build\nRUN a\nFROM scratch\nCOPY --from=build /a /a\nFROM x AS unused\n")
        let plan = try StagePlan(file, buildArgs: ["V": "2.0"])
        #expect(plan.stages.map(\.base) == ["busybox:2.0", "scratch", "x"])
        #expect(plan.stages[0].name == "build")
        let needed = plan.stagesNeeded(for: try plan.target(nil))
        #expect(needed.map(\.index) == [2])
        #expect(plan.stagesNeeded(for: plan.stages[1]).map(\.index) == [0, 1])
        #expect(throws: BuildError.self) { try plan.target("nope") }
        let early = "Dockerfile:1: RUN before the first FROM: a Dockerfile starts with FROM (only ARG may come before it)"
        #expect(throws: BuildError(.invalidArgument, early)) {
            try StagePlan(try Dockerfile.parse("RUN x\n"), buildArgs: [:])
        }
    }

    @Test func checkWarnings() throws {
        let warnings = DockerfileCheck.warnings(try Dockerfile.parse("FROM x as B\nENV A 1\nCMD echo\n"))
        #expect(warnings.count == 3)
        #expect(warnings[1].hasPrefix("Dockerfile:2: LegacyKeyValueFormat"))
        #expect(DockerfileCheck.warnings(try Dockerfile.parse("FROM x AS b\nENV A=1\nCMD [\"echo\"]\n")).isEmpty)
    }
}
