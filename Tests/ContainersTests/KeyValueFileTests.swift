import Containers
import Testing

/// `--env-file` and `--label-file` lines as Docker reads them.
@Suite("Env and label files") struct KeyValueFileTests {
    @Test func environmentLines() throws {
        let text = "\u{FEFF}# a comment\nA=1\n\n  B=two words  \r\n   # indented comment\nPASSED\nEMPTY=\nQ=\"quoted\"\nX=a=b\n\t\n"
        let entries = try KeyValueFile.parse(text, kind: .environment, source: "f")
        #expect(entries == ["A=1", "B=two words  ", "PASSED", "EMPTY=", "Q=\"quoted\"", "X=a=b"])
    }

    @Test func labelLines() throws {
        #expect(try KeyValueFile.parse("tier=web\nbare\n", kind: .labels, source: "f") == ["tier=web", "bare="])
    }

    @Test(arguments: [
        ("=value\n", "f line 1: no variable name before \"=\""),
        ("A=1\nMY VAR=1\n", "f line 2: the name \"MY VAR\" contains whitespace"),
    ])
    func refusals(text: String, message: String) {
        #expect(throws: (any Error).self) { try KeyValueFile.parse(text, kind: .environment, source: "f") }
        do {
            _ = try KeyValueFile.parse(text, kind: .environment, source: "f")
        } catch {
            #expect(error.message == message)
        }
    }

    @Test func labelsFromFlagsOverFiles() throws {
        let labels = try KeyValueFile.labels(files: [], flags: ["a=1", "b", "a=2", "c=x=y"])
        #expect(labels == ["a": "2", "b": "", "c": "x=y"])
        #expect(throws: (any Error).self) { try KeyValueFile.labels(files: [], flags: ["=v"]) }
        #expect(throws: (any Error).self) { try KeyValueFile.read("/nonexistent/env", kind: .environment) }
    }
}
