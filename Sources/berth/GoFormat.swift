import JSON

/// Go's fmt.Sprintf as a template's `printf` uses it: the verbs Docker users write (`%s`, `%v`,
/// `%q`, `%d`, `%x`, `%X`, `%t`, `%f`, `%g`, `%%`) with the flags `-`, `+`, `0` and space, a
/// width and a precision. As in Go, a wrong argument is no error but a marker in the text:
/// `%!d(string=web)`, `%!s(MISSING)`, `%!(EXTRA int=1)`.
enum GoFormat {
    struct Spec {
        var leftAlign = false
        var zeroPad = false
        var plusSign = false
        var spaceSign = false
        var width: Int?
        var precision: Int?
    }

    static func sprintf(_ format: String, _ arguments: [JSONValue]) -> String {
        var out = ""
        var next = 0
        let characters = Array(format)
        var position = 0
        // Each turn consumes at least one character.
        while position < characters.count {
            let character = characters[position]
            position += 1
            guard character == "%" else {
                out.append(character)
                continue
            }
            var spec = Spec()
            while position < characters.count, "-+ 0".contains(characters[position]) {
                switch characters[position] {
                case "-": spec.leftAlign = true
                case "+": spec.plusSign = true
                case " ": spec.spaceSign = true
                default: spec.zeroPad = true
                }
                position += 1
            }
            spec.width = number(in: characters, at: &position)
            if position < characters.count, characters[position] == "." {
                position += 1
                spec.precision = number(in: characters, at: &position) ?? 0
            }
            guard position < characters.count else {
                out += "%!(NOVERB)"
                break
            }
            let verb = characters[position]
            position += 1
            if verb == "%" {
                out += "%"
                continue
            }
            guard next < arguments.count else {
                out += "%!\(verb)(MISSING)"
                continue
            }
            out += formatted(arguments[next], verb: verb, spec: spec)
            next += 1
        }
        if next < arguments.count {
            out += "%!(EXTRA " + arguments[next...].map { "\(typeName($0))=\(GoTemplate.plain($0))" }.joined(separator: ", ") + ")"
        }
        return out
    }

    /// The decimal digits at `position`, which moves past them; nil when there are none.
    private static func number(in characters: [Character], at position: inout Int) -> Int? {
        var value: Int?
        while position < characters.count, characters[position].isASCII, let digit = characters[position].wholeNumberValue {
            value = min((value ?? 0) * 10 + digit, 1_000_000)
            position += 1
        }
        return value
    }

    private static func formatted(_ value: JSONValue, verb: Character, spec: Spec) -> String {
        switch (verb, value) {
        case ("s", _), ("v", _):
            let text = GoTemplate.plain(value)
            return padded(spec.precision.map { String(text.prefix($0)) } ?? text, spec, numeric: false)
        case ("q", .string(let text)):
            return padded(quoted(text), spec, numeric: false)
        case ("t", .bool(let flag)):
            return padded(flag ? "true" : "false", spec, numeric: false)
        case ("d", .number(let number)) where number.int64 != nil:
            return signed(String(number.int64 ?? 0), spec)
        case ("x", .number(let number)) where number.int64 != nil, ("X", .number(let number)) where number.int64 != nil:
            let integer = number.int64 ?? 0
            let digits = String(integer.magnitude, radix: 16, uppercase: verb == "X")
            return signed(integer < 0 ? "-" + digits : digits, spec)
        case ("x", .string(let text)), ("X", .string(let text)):
            let digits = text.utf8.map { byte in
                let hex = String(byte, radix: 16, uppercase: verb == "X")
                return hex.count == 1 ? "0" + hex : hex
            }.joined()
            return padded(digits, spec, numeric: false)
        case ("f", .number(let number)), ("F", .number(let number)):
            return signed(fixed(number.double, places: spec.precision ?? 6), spec)
        case ("g", .number(let number)):
            return signed(number.description, spec)
        default:
            if case .null = value { return "%!\(verb)(<nil>)" }
            return "%!\(verb)(\(typeName(value))=\(GoTemplate.plain(value)))"
        }
    }

    /// A number's text with the sign the flags ask for, then padded (zeros go after the sign).
    private static func signed(_ digits: String, _ spec: Spec) -> String {
        var text = digits
        if !text.hasPrefix("-") {
            if spec.plusSign { text = "+" + text } else if spec.spaceSign { text = " " + text }
        }
        return padded(text, spec, numeric: true)
    }

    private static func padded(_ text: String, _ spec: Spec, numeric: Bool) -> String {
        guard let width = spec.width, text.count < width else { return text }
        let fill = width - text.count
        if spec.leftAlign { return text + String(repeating: " ", count: fill) }
        if spec.zeroPad, numeric {
            let sign = text.first.map { "+- ".contains($0) } == true ? String(text.prefix(1)) : ""
            return sign + String(repeating: "0", count: fill) + text.dropFirst(sign.count)
        }
        return String(repeating: " ", count: fill) + text
    }

    /// `%f`: `places` digits after the point, rounded; Go's sign for negative zero kept.
    static func fixed(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : value < 0 ? "-Inf" : "+Inf" }
        let places = min(places, 15)
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (value.magnitude * scale).rounded()
        // Past 2^63 the digits are the double's own, as its description gives them.
        guard scaled < 9.2e18 else { return value.description }
        var digits = String(UInt64(scaled))
        if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
        let sign = value.sign == .minus ? "-" : ""
        return places == 0 ? sign + digits : sign + digits.dropLast(places) + "." + digits.suffix(places)
    }

    /// Go's %q of a string: double quotes, with backslash escapes.
    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// The Go type Docker's values would have, for the markers of a wrong or extra argument.
    private static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "<nil>"
        case .bool: return "bool"
        case .number(let number): return number.isInteger ? "int" : "float64"
        case .string: return "string"
        case .array: return "[]interface {}"
        case .object: return "map[string]interface {}"
        }
    }
}
