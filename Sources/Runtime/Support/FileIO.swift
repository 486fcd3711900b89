import FileSystem
#if canImport(Glibc)
import Glibc
#endif

// The runtime's use of the FileSystem helpers, with their failures said as RuntimeErrors.

/// Reads a small file (a cgroup or /proc value) in one go. Throws with the path on failure.
func readSmallFile(_ path: String) throws -> String {
    do {
        return String(decoding: try FileIO.readFile(path), as: UTF8.self)
    } catch {
        throw RuntimeError.system("cannot read \(path)", errno: error.errno)
    }
}

/// Replaces `path` with `contents` atomically (a reader sees the old file or the new one).
/// `durable` makes it survive a power loss; runtime records (which die with the machine's
/// cgroups) skip it.
func writeFileAtomically(_ path: String, _ contents: String, mode: mode_t = 0o644, durable: Bool = true) throws {
    do {
        try AtomicFile.replace(path, with: Array(contents.utf8), mode: mode, durable: durable)
    } catch {
        throw RuntimeError.system("cannot \(error.call) \(error.path)", errno: error.errno)
    }
}

/// mkdir -p.
func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
    do {
        try Directory.make(path, mode: mode)
    } catch {
        throw RuntimeError.system("cannot create directory \(error.path)", errno: error.errno)
    }
}

/// The names in a directory; none when it cannot be read.
func listDirectory(_ path: String) -> [String] { (try? Directory.names(atPath: path)) ?? [] }

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs and newlines (no Foundation here).
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
