#if canImport(Glibc)
import Glibc
#endif

/// The container store's error: a code and one sentence that says what was wrong and what to do.
public struct ContainerError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// A name or id that does not name a container.
        case notFound
        /// A name already taken, an ambiguous id prefix, a container in the wrong state.
        case conflict
        /// A name that breaks the naming rule.
        case invalidArgument
        /// Files berth cannot read or write; a damaged record.
        case systemError
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A failed system call: the sentence, then the errno's own words.
    static func system(_ message: String, errno err: Int32 = errno) -> ContainerError {
        let reason = strerror(err).map { String(cString: $0) } ?? "errno \(err)"
        return ContainerError(.systemError, "\(message): \(reason.prefix(1).lowercased() + reason.dropFirst())")
    }

    public var description: String { message }
}
