import CommandLineParsing
import JSON

/// The part of Go's text/template that Docker's `--format` is used with: literal text, field
/// references (`{{.Names}}`, `{{.State.Pid}}`, `{{$v.Name}}`), Go's functions `and`, `or`, `not`,
/// `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `index`, `slice`, `len`, `print`, `printf`, `println` and
/// Docker's `json`, `join`, `split`, `title`, `upper`, `lower`, `truncate`, `pad`, pipes
/// (`{{.Name | upper}}`) and parenthesised ones as arguments (`{{if and .A (eq .B "x")}}`),
/// `{{range}}` (over a list or a map, with `$i, $v :=`), `{{if}}` and `{{with}}` (with `{{else}}`),
/// comments, `{{-`/`-}}` trimming, and the `table` prefix (a header row, columns aligned at each
/// `\t`). `\t` and `\n` in the text are a tab and a newline, as Docker reads them. Evaluated over
/// the JSON object `--format json` prints.
struct GoTemplate: Equatable, Sendable {
    indirect enum Node: Equatable, Sendable {
        case text(String)
        case output(Pipeline)
        /// `range`: `variables` are `$v` or `$i, $v`; `otherwise` runs for an empty list or map.
        case range(variables: [String], Pipeline, body: [Node], otherwise: [Node])
        /// `if`, or `with` when `rebindsDot` (the body sees the value as `.`).
        case conditional(Pipeline, rebindsDot: Bool, body: [Node], otherwise: [Node])
    }

    /// Commands joined by `|`: each one after the first gets the value before it as its last argument.
    struct Pipeline: Equatable, Sendable {
        var commands: [Command]
    }

    struct Command: Equatable, Sendable {
        /// nil: the first argument's value itself.
        var function: String?
        var arguments: [Argument]
    }

    enum Argument: Equatable, Sendable {
        /// `.A.B` (variable nil), `$`, `$v.A`.
        case field(variable: String?, path: [String])
        case string(String)
        /// A number, `true`, `false` or `nil`.
        case constant(JSONValue)
        /// `(pipeline)`: its value.
        indirect case pipeline(Pipeline)
    }

    let nodes: [Node]
    /// `table ...`: a header row, and the rows aligned.
    let isTable: Bool

    static let functions: Set<String> = [
        "and", "eq", "ge", "gt", "index", "join", "json", "le", "len", "lower", "lt", "ne", "not", "or", "pad", "print",
        "printf", "println", "slice", "split", "title", "truncate", "upper",
    ]

    init(_ format: String) throws(UsageError) {
        var text = Substring(format)
        isTable = text.hasPrefix("table ") || text == "table"
        if isTable { text = text.dropFirst(5).drop { $0 == " " } }
        let unescaped = String(text).replacing("\\t", with: "\t").replacing("\\n", with: "\n")
        var parser = Parser(format: format, tokens: try Self.tokens(unescaped, format: format))
        let (nodes, closer) = try parser.nodes()
        if let closer { throw parser.error("{{\(closer)}} has no {{range}}, {{if}} or {{with}} to close") }
        self.nodes = nodes
    }

    /// The template applied to `value`; an unknown field is an error naming it.
    func render(_ value: JSONValue) throws(UsageError) -> String {
        var out = ""
        var scope = Scope(root: value, variables: [:])
        try Self.render(nodes, dot: value, scope: &scope, into: &out)
        return out
    }

    /// The header row of a table: each field's name in capitals, or `headers`' name for it.
    func header(_ headers: [String: String]) -> String {
        nodes.map { node in
            switch node {
            case .text(let text): return text
            case .output(let pipeline):
                guard let first = pipeline.commands.first, let argument = first.arguments.first,
                      case .field(nil, let path) = argument, !path.isEmpty
                else { return "" }
                return headers[path.joined(separator: ".")] ?? (path.last ?? "").uppercased()
            case .range, .conditional: return ""
            }
        }.joined()
    }

    // MARK: reading

    enum Token: Equatable, Sendable {
        case text(String)
        case action(String)
    }

    /// The text and the actions' insides, trimmed as `{{-` and `-}}` say; comments dropped.
    private static func tokens(_ text: String, format: String) throws(UsageError) -> [Token] {
        var tokens: [Token] = []
        var rest = Substring(text)
        var trimNextText = false
        // Bounded by the text's length: each turn consumes at least one action or the rest.
        while !rest.isEmpty {
            guard let open = rest.firstRange(of: "{{") else {
                tokens.append(.text(String(trimNextText ? rest.drop(while: \.isWhitespace) : rest)))
                break
            }
            var before = rest[..<open.lowerBound]
            if trimNextText { before = before.drop(while: \.isWhitespace) }
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                throw error(in: format, "an action opened with {{ is not closed with }}")
            }
            var inside = rest[open.upperBound..<close.lowerBound]
            if inside.hasPrefix("- ") || inside == "-" {
                while before.last?.isWhitespace == true { before = before.dropLast() }
                inside = inside.dropFirst()
            }
            trimNextText = inside.hasSuffix(" -")
            if trimNextText { inside = inside.dropLast() }
            if !before.isEmpty { tokens.append(.text(String(before))) }
            let action = inside.trimmingSpaces
            if !(action.hasPrefix("/*") && action.hasSuffix("*/")) { tokens.append(.action(String(action))) }
            rest = rest[close.upperBound...]
        }
        return tokens
    }

    /// A template that cannot be read: the template, then what is wrong with it.
    private static func error(in format: String, _ message: String) -> UsageError {
        UsageError("bad --format template \"\(format)\": \(message)")
    }

    /// A template that cannot be applied to the value at hand.
    private static func failure(_ message: String) -> UsageError {
        UsageError("bad --format template: " + message)
    }

    private struct Parser {
        let format: String
        let tokens: [Token]
        var position = 0

        func error(_ message: String) -> UsageError { GoTemplate.error(in: format, message) }

        /// Nodes up to the end of the text or to an `else` or `end`, which is returned.
        mutating func nodes() throws(UsageError) -> ([Node], String?) {
            var nodes: [Node] = []
            while position < tokens.count {
                let token = tokens[position]
                position += 1
                switch token {
                case .text(let text): nodes.append(.text(text))
                case .action(let action):
                    let words = try words(action)
                    switch words.first {
                    case "end", "else":
                        guard words.count == 1 else { throw error("{{\(action)}} takes nothing after \(words[0])") }
                        return (nodes, words[0])
                    case "range":
                        var rest = Array(words.dropFirst())
                        var variables: [String] = []
                        if let assign = rest.firstIndex(of: ":=") {
                            // `$i, $v`, `$i ,$v` and `$i,$v` alike.
                            variables = rest[..<assign].joined(separator: " ").split(separator: ",").map { String($0.trimmingSpaces) }
                            guard (1...2).contains(variables.count), variables.allSatisfy({ $0.hasPrefix("$") && $0.count > 1 }) else {
                                throw error("{{\(action)}}: range declares $v or $i, $v before :=")
                            }
                            rest = Array(rest[(assign + 1)...])
                        }
                        let pipeline = try pipeline(rest, action: action)
                        let (body, otherwise) = try block(action)
                        nodes.append(.range(variables: variables, pipeline, body: body, otherwise: otherwise))
                    case "if", "with":
                        let pipeline = try pipeline(Array(words.dropFirst()), action: action)
                        let (body, otherwise) = try block(action)
                        nodes.append(.conditional(pipeline, rebindsDot: words[0] == "with", body: body, otherwise: otherwise))
                    default:
                        nodes.append(.output(try pipeline(words, action: action)))
                    }
                }
            }
            return (nodes, nil)
        }

        /// A block's body and its `else` part, up to its `end`.
        private mutating func block(_ action: String) throws(UsageError) -> ([Node], [Node]) {
            let (body, closer) = try nodes()
            guard let closer else { throw error("{{\(action)}} is not closed with {{end}}") }
            guard closer == "else" else { return (body, []) }
            let (otherwise, last) = try nodes()
            guard last == "end" else { throw error("{{\(action)}}'s {{else}} is not closed with {{end}}") }
            return (body, otherwise)
        }

        private func pipeline(_ words: [String], action: String) throws(UsageError) -> Pipeline {
            var commands: [Command] = []
            for segment in words.split(separator: "|", omittingEmptySubsequences: false) {
                guard let head = segment.first else { throw error("{{\(action)}} has an empty command") }
                if Self.isFunction(head) {
                    guard GoTemplate.functions.contains(head) else {
                        let known = GoTemplate.functions.sorted().joined(separator: ", ")
                        throw error("{{\(action)}}: the function \"\(head)\" is not supported (\(known))")
                    }
                    let arguments = try segment.dropFirst().map { word throws(UsageError) in try argument(word, action: action) }
                    commands.append(Command(function: head, arguments: arguments))
                } else {
                    guard segment.count == 1, commands.isEmpty else { throw error("{{\(action)}}: \(head) is not a function") }
                    commands.append(Command(function: nil, arguments: [try argument(head, action: action)]))
                }
            }
            guard !commands.isEmpty else { throw error("{{\(action)}} is empty") }
            return Pipeline(commands: commands)
        }

        private static func isFunction(_ word: String) -> Bool {
            (word.first.map { $0.isLetter } ?? false) && !["true", "false", "nil"].contains(word)
        }

        private func argument(_ word: String, action: String) throws(UsageError) -> Argument {
            if word.hasPrefix("\""), word.hasSuffix("\""), word.count >= 2 { return .string(String(word.dropFirst().dropLast())) }
            if word.hasPrefix("(") {
                guard word.hasSuffix(")") else { throw error("{{\(action)}}: \(word): a field of a parenthesised value is not supported") }
                let inside = String(word.dropFirst().dropLast())
                return .pipeline(try pipeline(try words(inside), action: action))
            }
            switch word {
            case "true", "false": return .constant(.bool(word == "true"))
            case "nil": return .constant(.null)
            default: break
            }
            if let number = Int(word) { return .constant(.number(JSONNumber(number))) }
            if word.first.map({ $0.isASCII && ($0.isNumber || $0 == "-") }) == true, let value = Double(word),
               let number = JSONNumber(value) {
                return .constant(.number(number))
            }
            if word == "." { return .field(variable: nil, path: []) }
            var variable: String?
            var path = Substring(word)
            if word.hasPrefix("$") {
                let name = word.prefix { $0 != "." }
                variable = String(name)
                path = word.dropFirst(name.count)
                if path.isEmpty { return .field(variable: variable, path: []) }
            }
            guard path.hasPrefix(".") else { throw error("{{\(action)}}: \(word) is not a field, a variable, a string or a number") }
            let parts = path.dropFirst().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }) else {
                throw error("{{\(action)}}: \(word) is not a field reference")
            }
            return .field(variable: variable, path: parts)
        }

        /// An action's words: spaces separate them except inside a quoted string or parentheses
        /// (a parenthesised pipeline is one word); `|` and `:=` stand alone.
        private func words(_ action: String) throws(UsageError) -> [String] {
            var words: [String] = []
            var current = ""
            var quoted = false
            var escaped = false
            var depth = 0
            for character in action {
                if quoted {
                    if escaped {
                        // Inside parentheses the text stays as written: the inner pipeline's
                        // words are read again, escapes and all.
                        if depth > 0 { current.append(character) } else {
                            current.append(character == "n" ? "\n" : character == "t" ? "\t" : character)
                        }
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                        if depth > 0 { current.append(character) }
                    } else {
                        current.append(character)
                        if character == "\"" { quoted = false }
                    }
                } else if depth == 0 && (character == " " || character == "|") {
                    if !current.isEmpty { words.append(current) }
                    current = ""
                    if character == "|" { words.append("|") }
                } else {
                    if character == ")" {
                        guard depth > 0 else { throw error("{{\(action)}} closes a parenthesis it did not open") }
                        depth -= 1
                    }
                    current.append(character)
                    if character == "\"" { quoted = true }
                    if character == "(" { depth += 1 }
                }
            }
            if quoted { throw error("{{\(action)}} has a string that is not closed") }
            if depth > 0 { throw error("{{\(action)}} has a parenthesis that is not closed") }
            if !current.isEmpty { words.append(current) }
            // `$i, $v := x` and `$v:=x` read the same.
            return words.flatMap { word -> [String] in
                guard !word.hasPrefix("\""), !word.hasPrefix("("), word != ":=", let range = word.firstRange(of: ":=") else { return [word] }
                return [String(word[..<range.lowerBound]), ":=", String(word[range.upperBound...])].filter { !$0.isEmpty }
            }
        }
    }

    // MARK: evaluating

    private struct Scope {
        let root: JSONValue
        var variables: [String: JSONValue]
    }

    private static func render(_ nodes: [Node], dot: JSONValue, scope: inout Scope, into out: inout String) throws(UsageError) {
        for node in nodes {
            switch node {
            case .text(let text):
                out += text
            case .output(let pipeline):
                out += plain(try evaluate(pipeline, dot: dot, scope: scope))
            case .conditional(let pipeline, let rebindsDot, let body, let otherwise):
                let value = try evaluate(pipeline, dot: dot, scope: scope)
                if isTrue(value) {
                    try render(body, dot: rebindsDot ? value : dot, scope: &scope, into: &out)
                } else {
                    try render(otherwise, dot: dot, scope: &scope, into: &out)
                }
            case .range(let variables, let pipeline, let body, let otherwise):
                let value = try evaluate(pipeline, dot: dot, scope: scope)
                let items: [(key: JSONValue, value: JSONValue)]
                switch value {
                case .array(let elements): items = elements.enumerated().map { (.number(JSONNumber($0.offset)), $0.element) }
                // Go ranges over a map in its keys' order.
                case .object(let members): items = members.sorted { $0.key < $1.key }.map { (.string($0.key), $0.value) }
                case .null: items = []
                default: throw Self.failure("range over \(plain(value)), which is not a list or a map")
                }
                if items.isEmpty {
                    try render(otherwise, dot: dot, scope: &scope, into: &out)
                    continue
                }
                let saved = scope.variables
                for item in items {
                    if variables.count == 2 {
                        scope.variables[variables[0]] = item.key
                        scope.variables[variables[1]] = item.value
                    } else if let only = variables.first {
                        scope.variables[only] = item.value
                    }
                    try render(body, dot: item.value, scope: &scope, into: &out)
                }
                scope.variables = saved
            }
        }
    }

    private static func evaluate(_ pipeline: Pipeline, dot: JSONValue, scope: Scope) throws(UsageError) -> JSONValue {
        var previous: JSONValue?
        for command in pipeline.commands {
            var values = try command.arguments.map { argument throws(UsageError) in try evaluate(argument, dot: dot, scope: scope) }
            if let previous { values.append(previous) }
            previous = try call(command.function, values)
        }
        return previous ?? .null
    }

    private static func evaluate(_ argument: Argument, dot: JSONValue, scope: Scope) throws(UsageError) -> JSONValue {
        switch argument {
        case .string(let text): return .string(text)
        case .constant(let value): return value
        case .pipeline(let pipeline): return try evaluate(pipeline, dot: dot, scope: scope)
        case .field(let variable, let path):
            guard let variable else { return try lookup(path, in: dot) }
            let base: JSONValue
            if variable == "$" {
                base = scope.root
            } else if let value = scope.variables[variable] {
                base = value
            } else {
                throw Self.failure("undefined variable \(variable)")
            }
            return try lookup(path, in: base)
        }
    }

    private static func call(_ function: String?, _ values: [JSONValue]) throws(UsageError) -> JSONValue {
        func arity(_ count: Int) throws(UsageError) {
            guard values.count == count else {
                throw Self.failure("\(function ?? "") takes \(count) argument\(count == 1 ? "" : "s"), got \(values.count)")
            }
        }
        switch function {
        case nil:
            try arity(1)
            return values[0]
        case "json":
            try arity(1)
            return .string(String(decoding: JSON.serialize(values[0]), as: UTF8.self))
        case "len":
            try arity(1)
            switch values[0] {
            case .array(let items): return .number(JSONNumber(items.count))
            case .object(let members): return .number(JSONNumber(members.count))
            case .string(let text): return .number(JSONNumber(text.utf8.count))
            default: throw Self.failure("len of \(plain(values[0])), which has no length")
            }
        case "index":
            guard var current = values.first, values.count >= 2 else {
                throw Self.failure("index takes a list or map and at least one key")
            }
            for key in values.dropFirst() {
                switch (current, key) {
                case (.object(let members), .string(let name)):
                    // Go's index of a missing key is the map's zero value: Docker's maps hold
                    // strings (labels, options), so an empty one.
                    current = members.first { $0.key == name }?.value ?? .string("")
                case (.array(let items), .number(let number)):
                    guard let position = number.integer(as: Int.self), items.indices.contains(position) else {
                        throw Self.failure("index \(number) out of range (\(items.count) items)")
                    }
                    current = items[position]
                case (.null, _):
                    current = .null
                default:
                    throw Self.failure("cannot index \(plain(current)) with \(plain(key))")
                }
            }
            return current
        case "join":
            try arity(2)
            guard case .array(let items) = values[0], case .string(let separator) = values[1] else {
                throw Self.failure("join takes a list and a string")
            }
            return .string(items.map(plain).joined(separator: separator))
        case "upper", "lower":
            try arity(1)
            let text = plain(values[0])
            return .string(function == "upper" ? text.uppercased() : text.lowercased())
        case "eq":
            // Go's eq: the first argument against each of the others.
            guard values.count >= 2 else { throw Self.failure("eq takes at least 2 arguments, got \(values.count)") }
            return .bool(values.dropFirst().contains(values[0]))
        case "ne":
            try arity(2)
            return .bool(values[0] != values[1])
        case "lt", "le", "gt", "ge":
            try arity(2)
            guard let order = compare(values[0], values[1]) else {
                throw Self.failure("\(function ?? "") compares two numbers or two strings, not "
                                   + "\(plain(values[0])) and \(plain(values[1]))")
            }
            switch function {
            case "lt": return .bool(order < 0)
            case "le": return .bool(order <= 0)
            case "gt": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "and", "or":
            // Go's: the first argument that decides (false for and, true for or), else the last.
            guard let last = values.last else { throw Self.failure("\(function ?? "") takes at least 1 argument") }
            return values.dropLast().first { isTrue($0) == (function == "or") } ?? last
        case "not":
            try arity(1)
            return .bool(!isTrue(values[0]))
        case "printf":
            guard case .string(let format)? = values.first else {
                throw Self.failure("printf takes a format string first")
            }
            return .string(GoFormat.sprintf(format, Array(values.dropFirst())))
        case "split":
            try arity(2)
            guard case .string(let text) = values[0], case .string(let separator) = values[1] else {
                throw Self.failure("split takes a string and a separator")
            }
            // Go's strings.Split: empty parts kept; an empty separator splits after each character.
            let parts = separator.isEmpty ? text.map { String($0) }
                : text.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
            return .array(parts.map { .string($0) })
        case "title":
            try arity(1)
            return .string(titleCased(plain(values[0])))
        case "truncate":
            try arity(2)
            guard case .number(let number) = values[1], let length = number.integer(as: Int.self), length >= 0 else {
                throw Self.failure("truncate takes a string and a length")
            }
            return .string(String(plain(values[0]).prefix(length)))
        case "pad":
            // Docker's pad: spaces before and after, none around an empty string.
            try arity(3)
            guard case .number(let before) = values[1], case .number(let after) = values[2],
                  let prefix = before.integer(as: Int.self), let suffix = after.integer(as: Int.self), prefix >= 0, suffix >= 0
            else { throw Self.failure("pad takes a string and two counts of spaces") }
            let text = plain(values[0])
            return .string(text.isEmpty ? text : String(repeating: " ", count: prefix) + text + String(repeating: " ", count: suffix))
        case "slice":
            return try slice(values)
        case "print", "println":
            // fmt.Sprint puts a space between operands when neither is a string; Sprintln always.
            var text = ""
            for (offset, value) in values.enumerated() {
                if offset > 0, function == "println" || (!isString(values[offset - 1]) && !isString(value)) { text += " " }
                text += plain(value)
            }
            return .string(function == "println" ? text + "\n" : text)
        default:
            throw Self.failure("the function \"\(function ?? "")\" is not supported")
        }
    }

    /// -1, 0 or 1 for two numbers or two strings; nil for anything else.
    private static func compare(_ left: JSONValue, _ right: JSONValue) -> Int? {
        switch (left, right) {
        case (.number(let a), .number(let b)):
            if let x = a.int64, let y = b.int64 { return x < y ? -1 : x == y ? 0 : 1 }
            return a.double < b.double ? -1 : a.double == b.double ? 0 : 1
        case (.string(let a), .string(let b)):
            // Go compares strings byte by byte.
            return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : a == b ? 0 : 1
        default:
            return nil
        }
    }

    /// Go's slice: `slice x i` and `slice x i j` of a string (its bytes, as Go counts) or a list.
    private static func slice(_ values: [JSONValue]) throws(UsageError) -> JSONValue {
        guard (2...3).contains(values.count) else {
            throw Self.failure("slice takes a string or list and 1 or 2 indices")
        }
        var bounds: [Int] = []
        for value in values.dropFirst() {
            guard case .number(let number) = value, let index = number.integer(as: Int.self) else {
                throw Self.failure("slice's indices are whole numbers, not \(plain(value))")
            }
            bounds.append(index)
        }
        func range(_ count: Int) throws(UsageError) -> Range<Int> {
            let end = bounds.count == 2 ? bounds[1] : count
            guard bounds[0] >= 0, bounds[0] <= end, end <= count else {
                throw Self.failure("slice \(bounds.map(String.init).joined(separator: ":")) out of range (\(count))")
            }
            return bounds[0]..<end
        }
        switch values[0] {
        case .string(let text):
            let bytes = Array(text.utf8)
            return .string(String(decoding: bytes[try range(bytes.count)], as: UTF8.self))
        case .array(let items):
            return .array(Array(items[try range(items.count)]))
        default:
            throw Self.failure("slice of \(plain(values[0])), which is not a string or a list")
        }
    }

    /// Go's strings.Title, which Docker's `title` is: the first letter of each word in capitals,
    /// a word beginning after a space or an ASCII character other than a letter, digit or `_`.
    private static func titleCased(_ text: String) -> String {
        var out = ""
        var afterSeparator = true
        for character in text {
            out += afterSeparator ? character.uppercased() : String(character)
            if character.isASCII {
                afterSeparator = !(character.isLetter || character.isNumber || character == "_")
            } else {
                afterSeparator = character.isWhitespace
            }
        }
        return out
    }

    private static func isString(_ value: JSONValue) -> Bool {
        if case .string = value { return true }
        return false
    }

    /// Go's truth: false, 0, nil and empty strings, lists and maps are false.
    private static func isTrue(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return false
        case .bool(let b): return b
        case .number(let n): return n.description != "0"
        case .string(let s): return !s.isEmpty
        case .array(let items): return !items.isEmpty
        case .object(let members): return !members.isEmpty
        }
    }

    private static func lookup(_ path: [String], in value: JSONValue) throws(UsageError) -> JSONValue {
        var current = value
        for key in path {
            guard let members = current.object, let next = members.first(where: { $0.key == key })?.value else {
                throw Self.failure("no field .\(path.joined(separator: ".")) (at \"\(key)\")")
            }
            current = next
        }
        return current
    }

    /// A value as Go's fmt prints it: strings bare, lists as [a b], maps as map[k:v].
    static func plain(_ value: JSONValue) -> String {
        switch value {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.description
        case .string(let s): return s
        case .array(let items): return "[" + items.map(plain).joined(separator: " ") + "]"
        case .object(let members):
            return "map[" + members.sorted { $0.key < $1.key }.map { "\($0.key):\(plain($0.value))" }.joined(separator: " ") + "]"
        }
    }
}

private extension Substring {
    var trimmingSpaces: Substring {
        let start = drop { $0 == " " }
        var end = start
        while end.hasSuffix(" ") { end = end.dropLast() }
        return end
    }
}

/// A list printed through a template: rows as they come, or a table at the end.
final class TemplateOutput {
    let template: GoTemplate
    let headers: [String: String]
    private var rows: [String] = []

    init(_ template: GoTemplate, headers: [String: String] = [:]) {
        self.template = template
        self.headers = headers
    }

    func add(_ object: [(String, JSONValue)]) throws(UsageError) {
        let line = try template.render(.object(object.map { (key: $0.0, value: $0.1) }))
        if template.isTable { rows.append(line) } else { Output.print(line) }
    }

    func finish() {
        guard template.isTable else { return }
        var table = Table(template.header(headers).split(separator: "\t", omittingEmptySubsequences: false).map(String.init))
        for row in rows { table.add(row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)) }
        Output.print(table.render())
    }
}
