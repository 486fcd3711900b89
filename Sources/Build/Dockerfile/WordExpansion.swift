/// Docker's word rules for the instructions that expand variables (ADD, ARG, COPY, ENV, EXPOSE,
/// FROM, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR): `$NAME`, `${NAME}`,
/// `${NAME:-word}` (word when unset or empty), `${NAME-word}` (when unset), `${NAME:+word}`
/// (word when set and not empty), `${NAME+word}` (when set), `${NAME:?message}` (an error when
/// unset or empty); single quotes keep everything, double quotes keep spaces and allow `$`, the
/// escape character keeps the next one. Quotes and escapes are removed from the result.
public struct WordExpansion: Sendable {
    /// The variables in scope: the stage's ENV over its ARGs.
    public var variables: [String: String]
    /// `\` or, after `# escape=`` ` ``, the backtick.
    public var escape: Character

    public init(variables: [String: String], escape: Character = "\\") {
        self.variables = variables
        self.escape = escape
    }

    /// One word: the whole text expanded, spaces kept (ENV's and LABEL's values, WORKDIR, USER).
    public func word(_ text: String) throws -> String {
        var lexer = Lexer(characters: Array(text), escape: escape, variables: variables, splits: false)
        return try lexer.run().joined()
    }

    /// Words split at unquoted white space, each expanded (EXPOSE, VOLUME, COPY's sources).
    public func words(_ text: String) throws -> [String] {
        var lexer = Lexer(characters: Array(text), escape: escape, variables: variables, splits: true)
        return try lexer.run()
    }

    /// A heredoc's body: only `$` expansions, quotes and other characters kept as they are.
    public func document(_ text: String) throws -> String {
        var lexer = Lexer(characters: Array(text), escape: escape, variables: variables, splits: false)
        lexer.keepsQuotes = true
        return try lexer.run().joined()
    }

    /// The names of the variables `text` refers to, for the build args a step uses.
    public static func references(in text: String) -> Set<String> {
        var names = Set<String>()
        let characters = Array(text)
        var i = 0
        while i < characters.count {
            defer { i += 1 }
            guard characters[i] == "$", i + 1 < characters.count else { continue }
            var j = i + 1
            if characters[j] == "{" { j += 1 }
            var name = ""
            while j < characters.count, characters[j].isVariableNameCharacter {
                name.append(characters[j])
                j += 1
            }
            if !name.isEmpty { names.insert(name) }
        }
        return names
    }

    private struct Lexer {
        let characters: [Character]
        let escape: Character
        let variables: [String: String]
        let splits: Bool
        var keepsQuotes = false
        var index = 0
        var words: [String] = []
        var current = ""
        /// Whether the current word has begun (a quoted empty string is a word).
        var started = false

        init(characters: [Character], escape: Character, variables: [String: String], splits: Bool) {
            self.characters = characters
            self.escape = escape
            self.variables = variables
            self.splits = splits
        }

        mutating func run() throws -> [String] {
            while index < characters.count {
                let c = characters[index]
                index += 1
                if keepsQuotes, c != "$" {
                    if c == escape, index < characters.count, characters[index] == "$" {
                        current.append("$")
                        index += 1
                    } else {
                        current.append(c)
                    }
                    continue
                }
                switch c {
                case "'":
                    started = true
                    try singleQuoted()
                case "\"":
                    started = true
                    try doubleQuoted()
                case "$":
                    add(try dollar(), quoted: false)
                case escape:
                    started = true
                    if index < characters.count {
                        current.append(characters[index])
                        index += 1
                    } else {
                        current.append(c)
                    }
                case " " where splits, "\t" where splits, "\n" where splits:
                    endWord()
                default:
                    started = true
                    current.append(c)
                }
            }
            endWord()
            return splits ? words : [words.joined()]
        }

        mutating func endWord() {
            if started || !current.isEmpty { words.append(current) }
            current = ""
            started = false
        }

        /// An expansion's value: split at white space when unquoted and splitting.
        mutating func add(_ value: String, quoted: Bool) {
            guard splits, !quoted else {
                if !value.isEmpty || quoted { started = true }
                current += value
                return
            }
            for c in value {
                if c == " " || c == "\t" || c == "\n" {
                    endWord()
                } else {
                    started = true
                    current.append(c)
                }
            }
        }

        mutating func singleQuoted() throws {
            while index < characters.count {
                let c = characters[index]
                index += 1
                if c == "'" { return }
                current.append(c)
            }
            throw BuildError(.invalidArgument, "unexpected end of statement while looking for matching single-quote")
        }

        mutating func doubleQuoted() throws {
            while index < characters.count {
                let c = characters[index]
                index += 1
                switch c {
                case "\"":
                    return
                case "$":
                    add(try dollar(), quoted: true)
                case escape where index < characters.count:
                    let next = characters[index]
                    if next == "\"" || next == "$" || next == escape {
                        current.append(next)
                        index += 1
                    } else {
                        current.append(c)
                    }
                default:
                    current.append(c)
                }
            }
            throw BuildError(.invalidArgument, "unexpected end of statement while looking for matching double-quote")
        }

        /// What follows a `$`: a name, `{...}` with its modifier, or a plain dollar sign.
        mutating func dollar() throws -> String {
            guard index < characters.count else { return "$" }
            if characters[index] == "{" {
                index += 1
                return try braced()
            }
            // `$1` is a positional parameter, which a Dockerfile never has: empty, as in Docker.
            if characters[index].isASCII, characters[index].isNumber {
                index += 1
                return ""
            }
            let name = readName()
            return name.isEmpty ? "$" : variables[name] ?? ""
        }

        mutating func readName() -> String {
            var name = ""
            while index < characters.count, characters[index].isVariableNameCharacter {
                name.append(characters[index])
                index += 1
            }
            return name
        }

        mutating func braced() throws -> String {
            let name = readName()
            guard !name.isEmpty, index < characters.count else {
                throw BuildError(.invalidArgument, "missing '}' or a variable name after '${'")
            }
            if characters[index] == "}" {
                index += 1
                return variables[name] ?? ""
            }
            var modifier = String(characters[index])
            index += 1
            if modifier == ":", index < characters.count {
                modifier.append(characters[index])
                index += 1
            }
            guard [":-", "-", ":+", "+", ":?", "?"].contains(modifier) else {
                throw BuildError(.invalidArgument, "unsupported modifier (\(modifier)) in substitution of ${\(name)}")
            }
            let word = try nestedWord()
            let value = variables[name]
            switch modifier {
            case ":-": return (value ?? "").isEmpty ? word : value ?? ""
            case "-": return value ?? word
            case ":+": return (value ?? "").isEmpty ? "" : word
            case "+": return value == nil ? "" : word
            default:
                let unsetOrEmpty = modifier == ":?" ? (value ?? "").isEmpty : value == nil
                if unsetOrEmpty {
                    throw BuildError(.invalidArgument, "\(name): \(word.isEmpty ? "is not allowed to be unset" : word)")
                }
                return value ?? ""
            }
        }

        /// The word of `${NAME:-word}` up to its closing brace, expanded itself.
        mutating func nestedWord() throws -> String {
            var depth = 0
            var text: [Character] = []
            while index < characters.count {
                let c = characters[index]
                index += 1
                if c == escape, index < characters.count {
                    text.append(c)
                    text.append(characters[index])
                    index += 1
                    continue
                }
                if c == "{" { depth += 1 }
                if c == "}" {
                    if depth == 0 {
                        var inner = Lexer(characters: text, escape: escape, variables: variables, splits: false)
                        return try inner.run().joined()
                    }
                    depth -= 1
                }
                text.append(c)
            }
            throw BuildError(.invalidArgument, "missing '}' in a variable substitution")
        }
    }
}

extension Character {
    var isVariableNameCharacter: Bool {
        self == "_" || (isASCII && (isLetter || isNumber))
    }
}
