#if canImport(Glibc)
import Glibc
#endif

/// The one error of layer packing and unpacking: what went wrong, and the entry it went wrong on.
///
/// `entry` is the path inside the layer (as the tar names it when unpacking, relative to the upper
/// dir when packing), so the store and the CLI can say "layer entry \"../evil\": …" instead of a bare
/// errno: the user needs to know which file in a hostile or broken layer was refused.
public struct LayerError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: Sendable, Equatable {
        /// The entry would write outside the layer directory: an absolute path, a `..` component,
        /// a path through a symbolic link, a hardlink to something outside.
        case unsafePath
        /// A device node in a layer unpacked with `allowDevices: false`.
        case deviceNotAllowed
        /// The stream is not a readable tar (or a compressed tar), or an entry in it is malformed.
        case badArchive
        /// The entry is valid but cannot be represented: a socket-like tar type, an overlay upper
        /// dir written with redirect_dir or metacopy on.
        case unsupported
        /// A system call failed (disk full, permission denied, …); `errno` says which.
        case systemError
    }

    public let code: Code
    /// The path of the entry inside the layer, when the error is about one.
    public let entry: String?
    public let message: String
    /// errno of the failing call, when the error comes from one.
    public let errno: Int32?

    public init(_ code: Code, entry: String?, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.entry = entry
        self.message = message
        self.errno = errno
    }

    /// A failed system call on `entry`; `stage` names the call ("create file", "set xattr user.x").
    static func system(_ stage: String, entry: String?, errno err: Int32 = Glibc.errno) -> LayerError {
        LayerError(.systemError, entry: entry, stage, errno: err)
    }

    public var description: String {
        var text = entry.map { "layer entry \"\($0)\": \(message)" } ?? message
        if let errno {
            let reason = strerror(errno).map { String(cString: $0) } ?? "errno \(errno)"
            text += ": " + reason.prefix(1).lowercased() + reason.dropFirst()
        }
        return text
    }
}
