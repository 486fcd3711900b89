#if canImport(Glibc)
import Glibc
#endif

/// The one error type of the runtime: a small closed set of codes, a sentence that says what went
/// wrong and where, and the errno or underlying error when there is one.
///
/// The CLI prints `description` as one line; `code` picks the exit status.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// The user asked for something invalid (a bad flag value, a missing rootfs).
        case invalidArgument
        /// A path or object that should exist does not.
        case notFound
        /// The kernel or host lacks what the request needs (a cgroup controller, a namespace).
        case unsupported
        /// A system call failed while setting up or tearing down the container.
        case systemError
        /// The command inside the container could not be executed (exit 126).
        case notExecutable
        /// The command inside the container does not exist (exit 127).
        case commandNotFound
        /// Something already exists or is held by someone else (a name, a lock).
        case conflict
    }

    public let code: Code
    public let message: String
    /// errno of the failing call, when the error comes from one.
    public let errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    /// A failed system call: `stage` names what was being done ("mkdir /sys/fs/cgroup/pids/berth").
    public static func system(_ stage: String, errno err: Int32 = Glibc.errno) -> RuntimeError {
        RuntimeError(.systemError, stage, errno: err)
    }

    public var description: String {
        guard let errno else { return message }
        return "\(message): \(RuntimeError.describe(errno: errno))"
    }

    /// strerror, lower-cased the way the rest of our messages read.
    public static func describe(errno: Int32) -> String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        let s = String(cString: text)
        return s.prefix(1).lowercased() + s.dropFirst()
    }
}
