import JSON
import Testing

/// The error `JSON.parse` throws for `bytes`, or nil when it parses.
func parseError(_ bytes: [UInt8]) -> JSONError? {
    do {
        _ = try JSON.parse(bytes)
        return nil
    } catch {
        return error
    }
}

func parseError(_ text: String) -> JSONError? {
    parseError(Array(text.utf8))
}

@Suite("Parser")
struct ParserTests {
    @Suite("accepts RFC 8259 texts")
    struct Accepts {
        @Test(arguments: [
            ("null", JSONValue.null),
            ("true", true),
            (" \t\r\n false \n", false),
            ("0", 0),
            ("-0", 0),
            ("-1", -1),
            ("1E2", 100.0),
            ("1e+2", 100),
            ("2.5e-1", 0.25),
            ("1e-400", 0.0),
            ("\"\"", ""),
            ("[]", []),
            ("[ ]", []),
            ("{}", [:]),
            ("{ }", [:]),
            ("\u{FEFF}{}", [:]),
            ("[1,-1,0.5,\"x\",true,false,null,{},[]]", [1, -1, 0.5, "x", true, false, .null, [:], []]),
            ("{\"a\":{\"b\":[1,{\"c\":null}]}}", ["a": ["b": [1, ["c": .null]]]]),
            ("\"\\u00e9t\\u00E9\"", "été"),
            ("\"\\/\"", "/"),
            ("\"\\b\\f\\n\\r\\t\\\"\\\\\"", "\u{8}\u{C}\n\r\t\"\\"),
            ("\"\\u0000\"", "\u{0}"),
            ("\"\\u2028\\u2029\"", "\u{2028}\u{2029}"),
            ("\"\\uD83D\\uDE00\"", "😀"),
            ("\"\\ud83d\\ude00\"", "😀"),
            ("\"😀 raw\"", "😀 raw"),
            ("\"\u{7F}\"", "\u{7F}"),
        ] as [(String, JSONValue)])
        func value(text: String, expected: JSONValue) throws {
            #expect(try JSON.parse(text) == expected)
            // Both entry points read the same bytes.
            #expect(try JSON.parse(Array(text.utf8)) == expected)
        }

        @Test func surrogatePairBecomesOneScalar() throws {
            let string = try #require(try JSON.parse("\"\\uD83D\\uDE00\"").string)
            #expect(string.unicodeScalars.count == 1)
            #expect(string.unicodeScalars.first?.value == 0x1F600)
        }

        @Test func minusZeroIsTheIntegerZeroButMinusZeroPointZeroKeepsItsSign() throws {
            let integer = try #require(try JSON.parse("-0").number)
            #expect(integer.isInteger)
            #expect(integer.int64 == 0)
            let double = try #require(try JSON.parse("-0.0").number)
            #expect(!double.isInteger)
            #expect(double.double == 0 && double.double.sign == .minus)
            #expect(try JSON.parse("-0.0").description == "-0.0")
        }

        @Test func duplicateKeysAreKeptAndLookupsFindTheLast() throws {
            let value = try JSON.parse("{\"a\":1,\"b\":2,\"a\":3}")
            #expect(value.object?.count == 3)
            #expect(value["a"]?.int == 3)
            #expect(value.description == "{\"a\":1,\"b\":2,\"a\":3}")
        }

        @Test func nestingUpToTheLimit() throws {
            let depth = JSON.maximumDepth
            let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            #expect(parseError(text) == nil)
            let objects = String(repeating: "{\"a\":", count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
            #expect(parseError(objects) == nil)
        }
    }

    @Suite("rejects what RFC 8259 forbids")
    struct Rejects {
        @Test(arguments: [
            ("", "expected a value, found the end of the input"),
            ("[", "expected a value, found the end of the input"),
            ("[1,]", "expected a value after ',' (trailing commas are not allowed)"),
            ("[1,,2]", "expected a value"),
            ("[1 2]", "expected ',' or ']' after an array element"),
            ("{\"a\":1,}", "expected an object member after ',' (trailing commas are not allowed)"),
            ("{\"a\" 1}", "expected ':' after an object key"),
            ("{\"a\":1,\"b\"}", "expected ':' after an object key"),
            ("{a:1}", "expected a string key or '}'"),
            ("{\"a\":1,2}", "expected a string key after ','"),
            ("{\"a\":1 \"b\":2}", "expected ',' or '}' after an object member"),
            ("01", "leading zeros are not allowed in numbers"),
            ("-01", "leading zeros are not allowed in numbers"),
            ("00", "leading zeros are not allowed in numbers"),
            ("1.", "expected a digit after the decimal point, found the end of the input"),
            ("1.e5", "expected a digit after the decimal point"),
            (".5", "expected a value"),
            ("+1", "expected a value"),
            ("-", "expected a digit after '-', found the end of the input"),
            ("-a", "expected a digit after '-'"),
            ("1e", "expected a digit in the exponent, found the end of the input"),
            ("1e+", "expected a digit in the exponent, found the end of the input"),
            ("0x10", "unexpected data after the JSON value"),
            ("NaN", "expected a value"),
            ("Infinity", "expected a value"),
            ("-Infinity", "expected a digit after '-'"),
            ("1e400", "number 1e400 is too large for a 64-bit floating-point value"),
            ("-1e400", "number -1e400 is too large for a 64-bit floating-point value"),
            ("tru", "expected 'true'"),
            ("nul", "expected 'null'"),
            ("True", "expected a value"),
            ("1 2", "unexpected data after the JSON value"),
            ("{} x", "unexpected data after the JSON value"),
            ("'a'", "expected a value"),
            ("// comment\n1", "expected a value"),
            ("\"abc", "expected '\"' to end the string, found the end of the input"),
            ("\"a\\n", "expected '\"' to end the string, found the end of the input"),
            ("\"a\\", "expected an escape character after '\\', found the end of the input"),
            ("\"\\x\"", "invalid escape sequence: expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX"),
            ("\"\\u12\"", "expected four hexadecimal digits after '\\u'"),
            ("\"\\uZZZZ\"", "expected four hexadecimal digits after '\\u'"),
            ("\"\\uD800\"", "lone high surrogate \\uD800: expected a low surrogate \\uDC00-\\uDFFF after it"),
            ("\"\\uD800x\"", "lone high surrogate \\uD800: expected a low surrogate \\uDC00-\\uDFFF after it"),
            ("\"\\uD800\\n\"", "lone high surrogate \\uD800: expected a low surrogate \\uDC00-\\uDFFF after it"),
            ("\"\\uD800\\u0041\"",
             "lone high surrogate \\uD800: expected a low surrogate \\uDC00-\\uDFFF after it, found \\u0041"),
            ("\"\\uD800\\uD800\"",
             "lone high surrogate \\uD800: expected a low surrogate \\uDC00-\\uDFFF after it, found \\uD800"),
            ("\"\\uDC00\"", "lone low surrogate \\uDC00: it must follow a high surrogate \\uD800-\\uDBFF"),
            ("\"\\uDE00\\uD83D\"", "lone low surrogate \\uDE00: it must follow a high surrogate \\uD800-\\uDBFF"),
            ("\"a\tb\"", "control character U+0009 must be escaped in a string"),
            ("\"a\nb\"", "control character U+000A must be escaped in a string"),
            ("\"\u{0}\"", "control character U+0000 must be escaped in a string"),
            ("\"\\n\u{1F}\"", "control character U+001F must be escaped in a string"),
        ])
        func text(text: String, message: String) throws {
            let error = try #require(parseError(text))
            #expect(error.kind == .syntax)
            #expect(error.message == message)
            #expect(error.location != nil)
            #expect(error.path == nil)
        }

        @Test(arguments: [
            ([0x22, 0xFF, 0x22], "invalid UTF-8 in a string (byte 0xFF)"),
            ([0x22, 0x61, 0xC3, 0x22], "invalid UTF-8 in a string (byte 0xC3)"),
            ([0x22, 0xC0, 0xAF, 0x22], "invalid UTF-8 in a string (byte 0xC0)"),
            ([0x22, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8 in a string (byte 0xED)"),
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid UTF-8 in a string (byte 0xF4)"),
            ([0x22, 0x80, 0x22], "invalid UTF-8 in a string (byte 0x80)"),
            // The escaped path validates too.
            ([0x22, 0x5C, 0x6E, 0xFE, 0x22], "invalid UTF-8 in a string (byte 0xFE)"),
            ([0x5B, 0xFF, 0x5D], "expected a value"),
        ] as [([UInt8], String)])
        func invalidUTF8(bytes: [UInt8], message: String) throws {
            let error = try #require(parseError(bytes))
            #expect(error.kind == .syntax)
            #expect(error.message == message)
        }

        @Test func nestingPastTheLimit() throws {
            let depth = JSON.maximumDepth + 1
            let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            let error = try #require(parseError(text))
            #expect(error.description == "JSON error at line 1, column \(depth): arrays and objects nested deeper than 512 levels")
            // Far deeper input fails the same way instead of exhausting the stack.
            let hostile = String(repeating: "{\"a\":[", count: 100_000)
            #expect(parseError(hostile)?.message == "arrays and objects nested deeper than 512 levels")
        }
    }

    @Suite("reports the line and column")
    struct Positions {
        @Test(arguments: [
            ("{\"a\": 1,}", "JSON error at line 1, column 9: expected an object member after ',' (trailing commas are not allowed)"),
            ("{\n  \"a\": 1\n  \"b\": 2\n}", "JSON error at line 3, column 3: expected ',' or '}' after an object member"),
            ("[1, 2", "JSON error at line 1, column 6: expected ',' or ']' after an array element, found the end of the input"),
            ("[\"ab\tc\"]", "JSON error at line 1, column 5: control character U+0009 must be escaped in a string"),
            // Columns count characters, not bytes: "é" is two bytes and one column.
            ("[\"é\", x]", "JSON error at line 1, column 7: expected a value"),
            ("\n\n   \"\\uD800\"", "JSON error at line 3, column 5: lone high surrogate \\uD800: expected a low surrogate \\uDC00-\\uDFFF after it"),
            ("[\n  0123\n]", "JSON error at line 2, column 3: leading zeros are not allowed in numbers"),
            ("\"abc", "JSON error at line 1, column 5: expected '\"' to end the string, found the end of the input"),
        ])
        func message(text: String, description: String) throws {
            let error = try #require(parseError(text))
            #expect(error.description == description)
        }

        @Test func offsetCountsBytes() throws {
            let error = try #require(parseError([0x5B, 0x22, 0x61, 0xFF, 0x22, 0x5D]))
            #expect(error.location == JSONError.Location(offset: 3, line: 1, column: 4))
            #expect(error.description == "JSON error at line 1, column 4: invalid UTF-8 in a string (byte 0xFF)")
        }

        @Test func sourceNamesTheFile() throws {
            do {
                _ = try JSON.decode(JSONValue.self, from: "", source: "config.json")
                Issue.record("empty input parsed")
            } catch {
                #expect(error.source == "config.json")
                #expect(error.description == "config.json: JSON error at line 1, column 1: expected a value, found the end of the input")
            }
        }
    }

    @Suite("numbers")
    struct Numbers {
        @Test(arguments: [
            ("9223372036854775807", "9223372036854775807"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("18446744073709551615", "18446744073709551615"),
            ("9223372036854775808", "9223372036854775808"),
            ("0", "0"),
            ("-0", "0"),
            ("12", "12"),
        ])
        func integersWithin64BitsStayExact(text: String, serialized: String) throws {
            let number = try #require(try JSON.parse(text).number)
            #expect(number.isInteger)
            #expect(number.description == serialized)
            #expect(JSON.serialize(.number(number)) == Array(serialized.utf8))
        }

        @Test func sixtyFourBitExtremes() throws {
            #expect(try JSON.parse("9223372036854775807").int64 == Int64.max)
            #expect(try JSON.parse("-9223372036854775808").int64 == Int64.min)
            #expect(try JSON.parse("18446744073709551615").uint64 == UInt64.max)
            #expect(try JSON.parse("18446744073709551615").int64 == nil)
            #expect(try JSON.parse("-1").uint64 == nil)
            #expect(try JSON.parse("2.0").int == 2)
            #expect(try JSON.parse("2.5").int == nil)
            #expect(try JSON.parse("1e2").integer(as: UInt8.self) == 100)
            #expect(try JSON.parse("300").integer(as: UInt8.self) == nil)
        }

        /// Documented in JSONNumber: integers beyond 64 bits keep their text, are written back
        /// unchanged, and no 64-bit type accepts them, not even when the nearest Double would
        /// fit (-2^63 - 1 rounds to Int64.min).
        @Test(arguments: [
            "18446744073709551616",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "-99999999999999999999999",
        ])
        func integersBeyond64BitsStayExactAndFitNo64BitType(text: String) throws {
            let number = try #require(try JSON.parse(text).number)
            #expect(number.isInteger)
            #expect(number.description == text)
            #expect(JSON.serialize(.number(number)) == Array(text.utf8))
            #expect(number.int64 == nil)
            #expect(number.uint64 == nil)
            #expect(number.integer(as: Int128.self)?.description == text)
            #expect(number.double == Double(text))
            #expect(JSONNumber(try #require(Int128(text))) == number)
        }

        @Test func integerTooLargeForADoubleIsRefused() throws {
            let text = "1" + String(repeating: "0", count: 400)
            #expect(parseError(text)?.message == "number \(text) is too large for a 64-bit floating-point value")
        }

        @Test(arguments: [0.1, 1.0 / 3.0, Double.leastNonzeroMagnitude, 2.2250738585072014e-308, 1.7976931348623157e308,
                          123456.789, -2.5e-10, 0.30000000000000004, 9007199254740993.0, 1e21, 100.0, -0.0])
        func doublesRoundTripShortest(value: Double) throws {
            let bytes = JSON.serialize(.number(try #require(JSONNumber(value))))
            #expect(String(decoding: bytes, as: UTF8.self) == value.description)
            let back = try #require(try JSON.parse(bytes).number)
            #expect(back.double.bitPattern == value.bitPattern)
        }

        @Test(arguments: [(0.1, "0.1"), (100.0, "100.0"), (1e-7, "1e-07"), (1e21, "1e+21"),
                          (1.7976931348623157e308, "1.7976931348623157e+308"), (-2.5, "-2.5")])
        func doubleText(value: Double, text: String) throws {
            #expect(JSONNumber(value)?.description == text)
        }

        @Test func nonFiniteDoublesAreNotNumbers() {
            #expect(JSONNumber(Double.nan) == nil)
            #expect(JSONNumber(Double.infinity) == nil)
            #expect(JSONNumber(-Double.infinity) == nil)
        }

        @Test func equalityIsExactAcrossForms() throws {
            #expect(try JSON.parse("2") == JSON.parse("2.0"))
            #expect(try JSON.parse("100") == JSON.parse("1e2"))
            #expect(try JSON.parse("9007199254740993") != JSON.parse("9007199254740993.0"))
            #expect(try JSON.parse("18446744073709551615") != JSON.parse("-1"))
            #expect(try JSON.parse("18446744073709551616") == JSON.parse("1.8446744073709551616e19"))
            #expect(try JSON.parse("18446744073709551617") != JSON.parse("1.8446744073709551616e19"))
        }
    }
}
