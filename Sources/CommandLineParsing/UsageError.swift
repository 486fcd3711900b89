/// A command line that cannot be run as given: an unknown or malformed option, a missing or
/// invalid value. `message` is one sentence for the user; the program chooses the exit code.
public struct UsageError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
