import Testing
@testable import Runtime

/// Arguments and environment values carried as bytes (issue 11): every byte sequence comes
/// back exactly, and text is left as it is.
@Suite("Argument bytes")
struct ArgumentBytesTests {
    @Test("text is unchanged, and is its own UTF-8", arguments: ["", "plain", "é ü 漢字 🙂", "NAME=value with = and spaces"])
    func text(_ text: String) {
        #expect(ArgumentBytes.string(Array(text.utf8)) == text)
        #expect(ArgumentBytes.bytes(text) == Array(text.utf8))
    }

    @Test("bytes that are not UTF-8 come back exactly", arguments: [
        [0xFF], [0x61, 0xFF, 0x62], [0x80], [0xC3], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80],
        [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x2F, 0x74, 0x6D, 0x70, 0x2F, 0xFF],
        // A valid sequence that spells one of the escape scalars (U+10FE80, U+10FEFF) is escaped too.
        [0xF4, 0x8F, 0xBA, 0x80], [0x78, 0xF4, 0x8F, 0xBB, 0xBF, 0x79],
    ] as [[UInt8]])
    func roundTrip(_ bytes: [UInt8]) {
        let carried = ArgumentBytes.string(bytes)
        #expect(!carried.unicodeScalars.contains("\u{FFFD}"))
        #expect(ArgumentBytes.bytes(carried) == bytes)
    }

    @Test("every byte pair round-trips")
    func allPairs() {
        var wrong: [[UInt8]] = []
        for first in 0...255 {
            for second in 0...255 {
                let bytes = [UInt8(first), UInt8(second)]
                if ArgumentBytes.bytes(ArgumentBytes.string(bytes)) != bytes { wrong.append(bytes) }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
    }

    @Test("valid UTF-8 around a bad byte stays text")
    func mixed() {
        let carried = ArgumentBytes.string(Array("é".utf8) + [0xFF] + Array("x".utf8))
        #expect(carried.hasPrefix("é") && carried.hasSuffix("x"))
        #expect(carried.unicodeScalars.count == 3)
    }
}
