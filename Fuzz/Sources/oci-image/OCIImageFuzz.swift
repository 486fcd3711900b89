import FuzzSupport
@testable import ImageStore
import JSON

/// The image documents an image archive or a registry hands berth: an OCI (or Docker v2 schema 2)
/// manifest, an index, an image config, and `docker save`'s manifest.json. For each type: the
/// fast reader of the start path (`init(json:)`) and the Codable decoder accept the same
/// documents and read the same value, and what the encoder writes decodes to that value again.
@main
enum OCIImageFuzz {
    static func main() { runFuzzer(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    guard let value = try? JSON.parse(input.bytes) else { return 0 }
    checkBothReaders(OCIImage.Manifest.self, value, input) { v throws(OCIImage.DocumentError) in try OCIImage.Manifest(json: v) }
    checkBothReaders(OCIImage.Index.self, value, input) { v throws(OCIImage.DocumentError) in try OCIImage.Index(json: v) }
    checkBothReaders(OCIImage.Configuration.self, value, input) { v throws(OCIImage.DocumentError) in
        try OCIImage.Configuration(json: v)
    }
    checkRoundTrip([DockerArchiveManifest].self, value, input)
    return 0
}

/// The two readers agree on `value`, and the value round-trips through the encoder.
private func checkBothReaders<T: Codable & Equatable>(
    _ type: T.Type, _ value: JSONValue, _ input: FuzzInput, fast: (JSONValue) throws(OCIImage.DocumentError) -> T
) {
    let fastValue: T?
    do {
        fastValue = try fast(value)
    } catch {
        check(!error.path.isEmpty && !error.problem.isEmpty, "a DocumentError names the member", input)
        fastValue = nil
    }
    let decoded = checkRoundTrip(type, value, input)
    switch (fastValue, decoded) {
    case (let a?, let b?): check(a == b, "\(T.self): the fast reader read \(a), Codable \(b)", input)
    case (nil, nil): break
    case (let a?, nil): propertyFailed("\(T.self): only the fast reader accepts the document (\(a))", input)
    case (nil, let b?): propertyFailed("\(T.self): only Codable accepts the document (\(b))", input)
    }
}

/// Decodes a `T` from `value`; when it decodes, its encoding decodes (and reads fast) to the same.
@discardableResult
private func checkRoundTrip<T: Codable & Equatable>(_ type: T.Type, _ value: JSONValue, _ input: FuzzInput) -> T? {
    guard let decoded = try? JSON.decode(type, from: value) else { return nil }
    do {
        let encoded = try JSON.encode(decoded)
        let again = try JSON.decode(type, from: encoded)
        check(again == decoded, "\(T.self) encoded as \(String(decoding: encoded, as: UTF8.self)) decodes to \(again)", input)
    } catch {
        propertyFailed("\(T.self) \(decoded) does not round-trip: \(error)", input)
    }
    return decoded
}
