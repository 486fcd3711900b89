/// Entry points of the JSON module: parse text into a `JSONValue`, write one back out.
///
/// berth reads image configs, manifests, index.json and OCI config.json on the path of every
/// `berth run`, so it cannot afford Foundation (milliseconds of start-up and megabytes of memory
/// in a static binary). This module is the replacement: RFC 8259 parsing with errors that point
/// at a line and column, a deterministic writer, and a Codable layer on top (`JSON.decode`,
/// `JSON.encode`, in JSON+Codable.swift).
public enum JSON {
    /// The deepest nesting of arrays and objects the parser accepts. The parser recurses once per
    /// level, so a limit keeps hostile input (`[[[[…`) from exhausting the stack.
    public static let maximumDepth = 512

    /// Parses one JSON text (RFC 8259): any value at the top level, surrounded by optional
    /// whitespace, nothing after it. A UTF-8 byte order mark at the start is skipped.
    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONError) in try Parser.parse(buffer) }
        }
        return try result.get()
    }

    /// Parses a JSON text held in a `String` (its UTF-8 form, read in place).
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONError) in try Parser.parse(buffer) }
        }
        return try result.get()
    }

    /// Writes `value` as UTF-8 JSON text: compact (no whitespace at all), or pretty (two-space
    /// indent, one member or element per line, no trailing newline). Object members keep their
    /// order, so the same value always gives the same bytes.
    public static func serialize(_ value: JSONValue, pretty: Bool = false) -> [UInt8] {
        var writer = Serializer(pretty: pretty)
        writer.write(value, depth: 0)
        return writer.output
    }
}
