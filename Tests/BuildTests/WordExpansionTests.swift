@testable import Build
import Testing

/// Docker's word expansion as its own table.
@Suite("Dockerfile word expansion") struct WordExpansionTests {
    let expansion = WordExpansion(variables: ["A": "a", "EMPTY": "", "SP": "x y"])

    @Test(arguments: [
        ("$A", "a"), ("${A}b", "ab"), ("$Ab", ""), ("${NONE:-def}", "def"), ("${EMPTY:-def}", "def"), ("${EMPTY-def}", ""),
        ("${A:+alt}", "alt"), ("${EMPTY:+alt}", ""), ("${EMPTY+alt}", "alt"), ("${NONE+alt}", ""), ("${NONE:-$A}", "a"),
        ("'$A'", "$A"), ("\"$A b\"", "a b"), ("\\$A", "$A"), ("a\\ b", "a b"), ("$", "$"), ("cost $5", "cost "), ("$1a", "a"),
        ("\"q\\\"x\"", "q\"x"),
    ])
    func word(text: String, expected: String) throws {
        #expect(try expansion.word(text) == expected)
    }

    @Test func wordsSplitOutsideQuotes() throws {
        #expect(try expansion.words("a \"b c\" $SP '' d") == ["a", "b c", "x", "y", "", "d"])
    }

    @Test func errors() {
        #expect(throws: BuildError.self) { try expansion.word("${NONE:?must be set}") }
        #expect(throws: BuildError.self) { try expansion.word("'open") }
        #expect(throws: BuildError.self) { try expansion.word("${A") }
        #expect(throws: BuildError.self) { try expansion.word("${A/x/y}") }
    }

    @Test func documentsKeepQuotes() throws {
        #expect(try expansion.document("echo '$A' \"x\" \\$A\n") == "echo 'a' \"x\" $A\n")
    }

    @Test func escapeCharacterBacktick() throws {
        #expect(try WordExpansion(variables: [:], escape: "`").word("a` b\\c") == "a b\\c")
    }
}
