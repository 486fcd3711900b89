/// Writes a `JSONValue` as UTF-8 into one growing byte array.
///
/// Output is deterministic: members in their stored order, numbers in one canonical form,
/// pretty output with a two-space indent and `": "` after keys, empty containers as `{}` and
/// `[]`. Strings and numbers live in Serializer+Strings.swift and Serializer+Numbers.swift.
struct Serializer {
    let pretty: Bool
    var output: [UInt8] = []

    init(pretty: Bool) {
        self.pretty = pretty
        output.reserveCapacity(1024)
    }

    mutating func write(_ value: JSONValue, depth: Int) {
        switch value {
        case .null: writeASCII("null")
        case .bool(let flag): writeASCII(flag ? "true" : "false")
        case .number(let number): write(number)
        case .string(let string): write(string)
        case .array(let elements):
            if elements.isEmpty {
                writeASCII("[]")
                return
            }
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                write(element, depth: depth + 1)
            }
            newline(depth)
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.isEmpty {
                writeASCII("{}")
                return
            }
            output.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                write(member.key)
                output.append(UInt8(ascii: ":"))
                if pretty { output.append(UInt8(ascii: " ")) }
                write(member.value, depth: depth + 1)
            }
            newline(depth)
            output.append(UInt8(ascii: "}"))
        }
    }

    /// A line break and the indent for `depth`, in pretty mode only.
    private mutating func newline(_ depth: Int) {
        guard pretty else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
    }

    mutating func writeASCII(_ text: StaticString) {
        text.withUTF8Buffer { output.append(contentsOf: $0) }
    }
}
