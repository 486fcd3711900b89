import BerthErrors
@testable import Compose
import Testing

/// The YAML reader on libyaml: nodes with their lines, anchors and aliases, merge keys, errors.
@Suite("YAML reader") struct YAMLReaderTests {
    func read(_ text: String) throws -> YAMLNode { try YAMLReader.read(Array(text.utf8), file: "t.yaml") }

    func error(_ text: String) -> String {
        do {
            _ = try read(text)
            return "no error"
        } catch {
            return (error as? BerthError)?.message ?? "\(error)"
        }
    }

    @Test func scalarsSequencesAndMappingsKeepTheirLines() throws {
        let root = try read("""
            a: 1
            b:
              - x
              - "y"
            c: { d: e }
            empty:
            """)
        #expect(root.mapping?.map(\.key) == ["a", "b", "c", "empty"])
        #expect(root["a"]?.scalar == "1" && root["a"]?.line == 1)
        #expect(root["b"]?.sequence?.map(\.scalar) == ["x", "y"])
        #expect(root["b"]?.sequence?[1].line == 4)
        #expect(root["c"]?["d"]?.scalar == "e" && root["c"]?.line == 5)
        #expect(root["empty"]?.isNull == true)
        if case .scalar(_, let plain)? = root["b"]?.sequence?[1].value { #expect(!plain) }
    }

    @Test func quotedNullIsAString() throws {
        let root = try read("a: \"null\"\nb: null\nc: ~\n")
        #expect(root["a"]?.isNull == false && root["b"]?.isNull == true && root["c"]?.isNull == true)
    }

    @Test func anchorsAndAliasesAreCopies() throws {
        let root = try read("""
            base: &base [1, 2]
            other: *base
            """)
        #expect(root["other"]?.sequence?.map(\.scalar) == ["1", "2"])
        #expect(root["other"]?.line == 2)
    }

    @Test func mergeKeysKeepTheMappingsOwnKeysFirst() throws {
        let root = try read("""
            x-a: &a { image: a, restart: always, user: u1 }
            x-b: &b { user: u2, hostname: h }
            web:
              <<: [*a, *b]
              image: mine
            """)
        let web = try #require(root["web"])
        #expect(web["image"]?.scalar == "mine")
        #expect(web["restart"]?.scalar == "always")
        #expect(web["user"]?.scalar == "u1", "the earlier merged mapping wins")
        #expect(web["hostname"]?.scalar == "h")
        #expect(web["<<"] == nil)
    }

    @Test func errorsNameTheLine() {
        #expect(error("a: 1\nb: [1, 2\n") .hasPrefix("t.yaml:3:"), "\(error("a: 1\nb: [1, 2\n"))")
        #expect(error("a: 1\na: 2\n") == "t.yaml:2: the key \"a\" appears twice in one mapping")
        #expect(error("a: *nothing\n").hasPrefix("t.yaml:1:"))
        #expect(error("a: 1\n---\nb: 2\n") == "t.yaml:2: a second YAML document: a Compose file holds one")
        #expect(error("a:\n  <<: 3\n") == "t.yaml:2: a merge key (<<) takes a mapping or a list of mappings, not a scalar")
        #expect(error("? [a]\n: 1\n").hasPrefix("t.yaml:1: a mapping key is a list"))
    }

    @Test func aliasBombsAreRefused() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        #expect(error(text).contains("expands to more than"))
    }

    @Test func anEmptyDocumentIsAnEmptyMapping() throws {
        #expect(try read("").mapping?.isEmpty == true)
    }
}
