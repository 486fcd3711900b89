#if canImport(Glibc)
import Glibc
#endif

/// berth's one error type: every module throws it (under its own name, `RuntimeError`,
/// `ContainerError`, `ImageStoreError`, `LayerError`, which are views of this type), and the CLI
/// prints every failure through `description` as one sentence.
///
/// A small closed set of codes says what kind of failure it is, so callers branch on the code and
/// never on the words; `message` says what was wrong and what to do; `errno` and `step` say which
/// system call failed, where one did; `entry` names the file inside a layer an error is about.
public struct BerthError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The user asked for something invalid: a bad flag value, a name that breaks a rule.
        case invalidArgument
        /// A reference, digest or name that does not parse.
        case invalidReference
        /// A container, image, blob, path or process that should exist does not.
        case notFound
        /// Something already exists or is held by someone else: a name, a lock, an image in use.
        case conflict
        /// The object is in the wrong state for the operation: a container that is not running.
        case invalidState
        /// The kernel, the host or berth lacks what the request needs.
        case unsupported
        /// A system call failed; `errno` and `step` say which.
        case systemError
        /// Content whose digest, size or format is not what it claims to be.
        case corrupt
        /// Content refused on purpose: a hostile archive, an unsupported media type.
        case rejected
        /// A layer entry that would write outside its layer (`..`, a path through a symlink).
        case unsafePath
        /// A device node in a layer that may not hold any.
        case deviceNotAllowed
        /// A stream that is not a readable archive, or a malformed entry in one.
        case badArchive
        /// The container's command exists but cannot be executed (Docker's exit 126).
        case notExecutable
        /// The container's command does not exist (Docker's exit 127).
        case commandNotFound
        /// berth was told to stop (Ctrl-C) and stopped what it was doing (exit 130, as a shell's
        /// 128 + SIGINT).
        case interrupted
    }

    public let code: Code
    public let message: String
    /// errno of the failing call, when the error comes from one.
    public let errno: Int32?
    /// The system call or stage that failed ("mount /proc", "clone"), when it is not already
    /// what `message` says.
    public let step: String?
    /// The path inside a layer the error is about, so the user learns which file of a hostile
    /// or broken layer was refused.
    public let entry: String?
    /// The lower-level error this one explains, when there is one.
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, errno: Int32? = nil, step: String? = nil,
                cause: (any Error & Sendable)? = nil) {
        self.init(code, entry: nil, message, errno: errno, step: step, cause: cause)
    }

    public init(_ code: Code, entry: String?, _ message: String, errno: Int32? = nil, step: String? = nil,
                cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.entry = entry
        self.message = message
        self.errno = errno
        self.step = step
        self.cause = cause
    }

    /// A failed system call: `stage` says what was being done ("mkdir /sys/fs/cgroup/pids/berth").
    public static func system(_ stage: String, entry: String? = nil, errno err: Int32 = Glibc.errno) -> BerthError {
        BerthError(.systemError, entry: entry, stage, errno: err)
    }

    /// The same error with `message` said first: what berth was doing when `self` happened.
    public func context(_ doing: String) -> BerthError {
        BerthError(code, entry: entry, "\(doing): \(message)", errno: errno, step: step, cause: cause)
    }

    /// One sentence: the layer entry, the message, the step and the errno's own words.
    public var description: String {
        var text = entry.map { "layer entry \"\($0)\": \(message)" } ?? message
        if let step { text += " (\(step))" }
        if let errno { text += ": " + BerthError.describe(errno: errno) }
        return text
    }

    /// strerror, lower-cased to read inside a sentence.
    public static func describe(errno: Int32) -> String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        let s = String(cString: text)
        return s.prefix(1).lowercased() + s.dropFirst()
    }

    /// Docker's exit codes for a failed `run`: 126 when the command cannot be executed, 127 when
    /// it is not found, 125 for everything else berth could not do.
    public var runExitCode: Int32 {
        switch code {
        case .notExecutable: 126
        case .commandNotFound: 127
        case .interrupted: 130
        default: 125
        }
    }
}

extension BerthError: Equatable {
    /// Errors are equal when they say the same thing; the cause is context, not identity.
    public static func == (a: BerthError, b: BerthError) -> Bool {
        a.code == b.code && a.message == b.message && a.errno == b.errno && a.step == b.step && a.entry == b.entry
    }
}
