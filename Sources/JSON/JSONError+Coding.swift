/// How Codable's errors become `JSONError`s: the coding path rendered as text
/// (`mounts[2].options`), the message kept, the kind mapped onto the four `JSONError` kinds.
extension JSONError {
    /// Wraps an error thrown while decoding or encoding. `DecodingError`s and `EncodingError`s
    /// (ours and those that types throw themselves) keep their path and message; any other error
    /// a type threw becomes the `cause` of an `.invalidValue` error at the top level, unless
    /// the decoder already wrapped it with its path.
    init(codingFailure error: any Error) {
        // Casts are fine here: this runs once per failed decode, never on the way to success.
        if let error = error as? JSONError {
            self = error
        } else if let error = error as? DecodingError {
            self.init(error)
        } else if let error = error as? EncodingError {
            self.init(error)
        } else {
            self.init(kind: .invalidValue, message: String(describing: error), path: "", cause: error)
        }
    }

    private init(_ error: DecodingError) {
        switch error {
        case .typeMismatch(_, let context):
            self.init(kind: .typeMismatch, context)
        case .valueNotFound(_, let context):
            self.init(kind: .missingValue, context)
        case .keyNotFound(let key, let context):
            self.init(kind: .missingValue, message: "missing required key \(JSONValue.string(key.stringValue))",
                      path: CodingPathText.render(context.codingPath))
        case .dataCorrupted(let context):
            self.init(kind: .invalidValue, context)
        @unknown default:
            self.init(kind: .invalidValue, message: String(describing: error), path: "", cause: error)
        }
    }

    private init(_ error: EncodingError) {
        switch error {
        case .invalidValue(_, let context):
            self.init(kind: .invalidValue, message: context.debugDescription,
                      path: CodingPathText.render(context.codingPath), cause: context.underlyingError)
        @unknown default:
            self.init(kind: .invalidValue, message: String(describing: error), path: "", cause: error)
        }
    }

    private init(kind: Kind, _ context: DecodingError.Context) {
        self.init(kind: kind, message: context.debugDescription, path: CodingPathText.render(context.codingPath),
                  cause: context.underlyingError)
    }

    /// A type's own error (not a Codable one) thrown at `path`: kept as the cause, with the
    /// path the decoder or encoder knows. Codable errors already carry their path, and so does a
    /// `JSONError` wrapped further down; a `JSONError` a type made itself (no path, no location)
    /// is given this one.
    static func thrownByType(_ error: any Error, at path: [any CodingKey]) -> any Error {
        if error is DecodingError || error is EncodingError { return error }
        if var error = error as? JSONError {
            if error.path == nil && error.location == nil {
                error.path = CodingPathText.render(path)
            }
            return error
        }
        return JSONError(kind: .invalidValue, message: String(describing: error), path: CodingPathText.render(path),
                         cause: error)
    }

    /// The same error, naming `source` (when given and not already named).
    func from(_ source: String?) -> JSONError {
        var error = self
        error.source = error.source ?? source
        return error
    }
}
