#if canImport(Glibc)
import Glibc
#endif

/// A failed file-system call: which call, on which path, and its errno. Every module maps it into
/// its own error type at the call site; this one only has to say what failed.
public struct FileSystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The system call or step that failed ("open", "fsync", "rename", "unlinkat").
    public let call: String
    /// The path it failed on (for removal, the path of the entry inside the tree, for display only).
    public let path: String
    public let errno: Int32

    public init(_ call: String, _ path: String, errno err: Int32 = Glibc.errno) {
        self.call = call
        self.path = path
        self.errno = err
    }

    /// strerror, lower-cased to read inside a sentence.
    public var reason: String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        let s = String(cString: text)
        return s.prefix(1).lowercased() + s.dropFirst()
    }

    public var description: String { "\(call) \(path): \(reason)" }
}
