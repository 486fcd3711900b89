#if canImport(Glibc)
import Glibc
#endif

/// The running program's own file, from /proc/self/exe: berth's helper programs (berth-monitor,
/// berth-entry) are installed beside it.
public enum RunningExecutable {
    /// Its path; nil when /proc does not say.
    public static var path: String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The directory `path` is in ("." for a path without one).
    public static func directory(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
    }
}
