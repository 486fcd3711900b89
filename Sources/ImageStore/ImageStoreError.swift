/// The image store's error: a small closed set of codes and one sentence that says what was
/// wrong, where, and (when it helps) what to do.
public struct ImageStoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// A reference, digest or name that does not parse.
        case invalidReference
        /// No image, blob or layer by that name or digest.
        case notFound
        /// Content whose digest or size is not what its descriptor says.
        case corrupt
        /// Content that is refused on purpose (a hostile layer, an unsupported media type).
        case rejected
        /// The operation conflicts with the store's state (an image in use, a lock held).
        case conflict
        /// A system call failed.
        case systemError
    }

    public let code: Code
    public let message: String
    public let errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String {
        guard let errno else { return message }
        return "\(message): \(describeErrno(errno))"
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// strerror, lower-cased to read inside a sentence.
func describeErrno(_ errno: Int32) -> String {
    guard let text = strerror(errno) else { return "errno \(errno)" }
    let s = String(cString: text)
    return s.prefix(1).lowercased() + s.dropFirst()
}
