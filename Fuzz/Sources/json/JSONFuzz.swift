import FuzzSupport
import JSON

/// `JSON.parse`, the reader under every document berth loads (image configs, manifests, launch
/// specs, records, seccomp profiles): either a JSONError, or a value that the serializer writes,
/// compact and pretty, as text that parses back to the same value, and writes the same way again.
@main
enum JSONFuzz {
    static func main() { runFuzzer(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    guard let value = try? JSON.parse(input.bytes) else { return 0 }
    if let fromText = try? JSON.parse(input.text), input.text.utf8.elementsEqual(input.bytes) {
        check(fromText == value, "parsing the text and the bytes agree", input)
    }
    for pretty in [false, true] {
        let written = JSON.serialize(value, pretty: pretty)
        let again: JSONValue
        do {
            again = try JSON.parse(written)
        } catch {
            propertyFailed("serialized (pretty: \(pretty)) \(String(decoding: written, as: UTF8.self)) does not parse: \(error)", input)
        }
        check(again == value, "serialized (pretty: \(pretty)) value parses back to \(again), not \(value)", input)
        check(JSON.serialize(again, pretty: pretty) == written, "serializing is stable (pretty: \(pretty))", input)
    }
    return 0
}
