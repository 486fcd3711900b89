/// Codable entry points: `JSON.decode(T.self, from: bytes)` and `JSON.encode(value)`, the
/// Foundation-free stand-ins for `JSONDecoder` and `JSONEncoder`.
///
/// Decoding parses the whole text into a `JSONValue` first and decodes from that tree; the
/// decoder and encoder behind them are in Decoding/ and Encoding/. Conventions, chosen to match
/// what OCI documents expect:
/// - an optional property that is nil is left out when encoding; a missing key or a null
///   decodes as nil;
/// - structs keep the order their `encode(to:)` writes (for synthesized conformances, the order
///   of the `CodingKeys` cases); `[String: T]` dictionaries are written with sorted keys, so the
///   same value always gives the same bytes;
/// - unknown keys are ignored when decoding;
/// - integers must be exact (300 is not a `UInt8`, 2.5 is not an `Int`; 2.0 is an `Int`).
extension JSON {
    /// Decodes a `T` from JSON text. `source` (a file name, say) prefixes error messages:
    /// `config.json: at process.user.uid: expected a number, found a string`.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8],
                                            source: String? = nil) throws(JSONError) -> T {
        let value: JSONValue
        do {
            value = try parse(bytes)
        } catch {
            throw error.from(source)
        }
        return try decode(type, from: value, source: source)
    }

    /// Decodes a `T` from JSON text held in a `String`.
    public static func decode<T: Decodable>(_ type: T.Type, from text: String,
                                            source: String? = nil) throws(JSONError) -> T {
        let value: JSONValue
        do {
            value = try parse(text)
        } catch {
            throw error.from(source)
        }
        return try decode(type, from: value, source: source)
    }

    /// Decodes a `T` from an already parsed value (a part of a larger document, say).
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue,
                                            source: String? = nil) throws(JSONError) -> T {
        do {
            return try Unboxing.decode(type, from: value, parent: nil, component: nil)
        } catch {
            throw JSONError(codingFailure: error).from(source)
        }
    }

    /// Encodes `value` as UTF-8 JSON text, compact or pretty (see `serialize`).
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws(JSONError) -> [UInt8] {
        serialize(try encodeToValue(value), pretty: pretty)
    }

    /// Encodes `value` as JSON text in a `String`.
    public static func encodeToString<T: Encodable>(_ value: T, pretty: Bool = false) throws(JSONError) -> String {
        String(decoding: try encode(value, pretty: pretty), as: UTF8.self)
    }

    /// Encodes `value` into a `JSONValue`, to inspect or amend before writing it.
    public static func encodeToValue<T: Encodable>(_ value: T) throws(JSONError) -> JSONValue {
        let slot: EncodedSlot
        do {
            slot = try Boxing.encode(value, parent: nil, component: nil)
        } catch {
            throw JSONError(codingFailure: error)
        }
        guard let resolved = slot.resolve() else {
            throw JSONError(kind: .invalidValue, message: "\(T.self) did not encode any value", path: "")
        }
        return resolved
    }
}
