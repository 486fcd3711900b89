import JSON
import Testing

func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

@Suite("Serializer")
struct SerializerTests {
    static let document: JSONValue = [
        "zeta": 1,
        "alpha": [true, .null, "x/y", -2.5],
        "empty object": [:],
        "empty array": [],
        "nested": ["b": ["c": .number(JSONNumber(UInt64.max))]],
    ]

    @Test func compactKeepsKeyOrderAndHasNoWhitespace() {
        #expect(text(JSON.serialize(Self.document))
            == #"{"zeta":1,"alpha":[true,null,"x/y",-2.5],"empty object":{},"empty array":[],"nested":{"b":{"c":18446744073709551615}}}"#)
    }

    @Test func prettyUsesTwoSpacesAndNoTrailingNewline() {
        let expected = """
            {
              "zeta": 1,
              "alpha": [
                true,
                null,
                "x/y",
                -2.5
              ],
              "empty object": {},
              "empty array": [],
              "nested": {
                "b": {
                  "c": 18446744073709551615
                }
              }
            }
            """
        #expect(text(JSON.serialize(Self.document, pretty: true)) == expected)
        #expect(Self.document.serialized(pretty: true) == expected)
    }

    @Test(arguments: [
        (JSONValue.null, "null"), (true, "true"), (false, "false"), (0, "0"), (-7, "-7"),
        ("", #""""#), ([], "[]"), ([:], "{}"),
        (.number(JSONNumber(Int64.min)), "-9223372036854775808"),
        (.number(JSONNumber(Int64.max)), "9223372036854775807"),
        (.number(JSONNumber(UInt64.max)), "18446744073709551615"),
    ] as [(JSONValue, String)])
    func scalars(value: JSONValue, expected: String) {
        #expect(text(JSON.serialize(value)) == expected)
        #expect(text(JSON.serialize(value, pretty: true)) == expected)
    }

    @Test func nestedEmptyContainers() {
        let value: JSONValue = [[[]], ["a": [:]]]
        #expect(text(JSON.serialize(value)) == #"[[[]],{"a":{}}]"#)
        #expect(text(JSON.serialize(value, pretty: true)) == "[\n  [\n    []\n  ],\n  {\n    \"a\": {}\n  }\n]")
    }

    @Suite("strings")
    struct Strings {
        @Test(arguments: [
            ("plain", #""plain""#),
            ("a/b", #""a/b""#),
            ("quote \" backslash \\", #""quote \" backslash \\""#),
            ("\u{8}\u{C}\n\r\t", #""\b\f\n\r\t""#),
            ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#),
            ("\u{B}\u{1B}", #""\u000b\u001b""#),
            ("\u{7F}", "\"\u{7F}\""),
            ("été 😀", "\"été 😀\""),
            ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\""),
        ])
        func escaping(string: String, expected: String) throws {
            let bytes = JSON.serialize(.string(string))
            #expect(text(bytes) == expected)
            #expect(try JSON.parse(bytes) == .string(string))
        }

        @Test(arguments: [
            "", "\u{0}", "\u{0}\u{0}x", "\u{2028}", "😀", "a\u{1F}b", "\\u0000", "🇫🇷 e\u{301}",
            String(decoding: (0..<0x80).map { UInt8($0) }, as: UTF8.self),
        ])
        func roundTrip(string: String) throws {
            let bytes = JSON.serialize(["key \(string)": .string(string)])
            let back = try JSON.parse(bytes)
            #expect(back["key \(string)"]?.string == string)
            #expect(back.object?.first?.key == "key \(string)")
        }

        @Test func escapedInputReadsBackToTheSameScalars() throws {
            let value = try JSON.parse(#""\u0000\u2028\uD83D\uDE00\u00e9""#)
            #expect(value.string?.unicodeScalars.map(\.value) == [0, 0x2028, 0x1F600, 0xE9])
            #expect(value.description == "\"\\u0000\u{2028}😀é\"")
        }
    }

    @Test func parseThenSerializeIsIdentityForCanonicalText() throws {
        let canonical = #"{"b":[1,-1,0.5,1e-07,"x",true,false,null],"a":{"":{}},"c":18446744073709551616}"#
        #expect(text(JSON.serialize(try JSON.parse(canonical))) == canonical)
    }
}
