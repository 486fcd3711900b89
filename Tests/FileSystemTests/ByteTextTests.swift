import FileSystem
import Testing

@Suite("hex and base64") struct ByteTextTests {
    @Test func hexRoundTripsAndRefusesOtherText() {
        let bytes: [UInt8] = [0x00, 0x0f, 0xa5, 0xff]
        #expect(Hex.encode(bytes) == "000fa5ff")
        #expect(Hex.decode("000fa5ff") == bytes)
        #expect(Hex.decode("000FA5FF") == nil)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }

    /// The URL alphabet has '-' and '_' for '+' and '/', and no padding; each alphabet refuses
    /// the other's two characters.
    @Test func base64AlphabetsRoundTrip() {
        let bytes: [UInt8] = [0xfb, 0xff, 0xbf, 0x01]
        #expect(Base64.encode(bytes) == "+/+/AQ==")
        #expect(Base64.encode(bytes, .url) == "-_-_AQ")
        #expect(Base64.decode("+/+/AQ==") == bytes)
        #expect(Base64.decode("-_-_AQ", .url) == bytes)
        #expect(Base64.decode("-_-_AQ") == nil)
        #expect(Base64.decode("+/+/AQ", .url) == nil)
        let id = (0..<32).map { UInt8($0 * 8) }
        #expect(Base64.encode(id, .url).utf8.count == 43)
        #expect(Base64.decode(Base64.encode(id, .url), .url) == id)
    }
}
