/// What went wrong reading or writing JSON, and where, in one sentence a person can act on.
///
/// Syntax errors carry the position in the text (`JSON error at line 3, column 14: expected ','
/// or '}' after an object member`); Codable errors carry the path of keys to the offending value
/// (`config.json: at process.user.uid: expected a number, found a string`). `source` names the
/// file when the caller knows it, and prefixes the message.
public struct JSONError: Error, CustomStringConvertible {
    /// The small closed set of things that go wrong.
    public enum Kind: Sendable, Equatable {
        /// The text is not JSON (RFC 8259); `location` says where.
        case syntax
        /// A value has the wrong JSON type for the Swift type read from it (a string where a
        /// number belongs).
        case typeMismatch
        /// A required key is absent, or its value is null, or an array ended early.
        case missingValue
        /// The value has the right JSON type but the Swift type refuses it: a number out of the
        /// type's range, an unknown enum case, a NaN to encode, or a type's own validation.
        case invalidValue
    }

    /// A position in the text: `offset` counts bytes from 0; `line` and `column` count from 1,
    /// columns in Unicode characters (scalars) as an editor shows them.
    public struct Location: Sendable, Equatable {
        public var offset: Int
        public var line: Int
        public var column: Int

        public init(offset: Int, line: Int, column: Int) {
            self.offset = offset
            self.line = line
            self.column = column
        }
    }

    public var kind: Kind
    /// What was expected or refused, without the position: "expected ':' after an object key".
    public var message: String
    /// Where in the text, for syntax errors.
    public var location: Location?
    /// The coding path of the value, for Codable errors: `process.user.uid`,
    /// `mounts[2].options`, `annotations["org.opencontainers.image.title"]`; empty for the top
    /// level.
    public var path: String?
    /// The file or other origin of the text, when the caller named it.
    public var source: String?
    /// The error a type's own `init(from:)` or `encode(to:)` threw, when it was not a Codable error.
    public var cause: (any Error)?

    public init(kind: Kind, message: String, location: Location? = nil, path: String? = nil,
                source: String? = nil, cause: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.location = location
        self.path = path
        self.source = source
        self.cause = cause
    }

    public var description: String {
        let prefix = source.map { "\($0): " } ?? ""
        if let location {
            return "\(prefix)JSON error at line \(location.line), column \(location.column): \(message)"
        }
        if let path {
            return "\(prefix)at \(path.isEmpty ? "the top level" : path): \(message)"
        }
        return prefix + message
    }
}
