import FileSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory for one test, removed at the end (with the helper under test's sibling:
/// `rm -rf` through a shell, so a broken FileTree cannot hide its own leftovers).
final class Scratch {
    let path: String

    init() throws {
        var template = Array("/tmp/berth-fs-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        path = try #require(made)
    }

    deinit {
        // Read-only directories left by a failed test must not stop the cleanup.
        _ = system("chmod -R u+rwx '\(path)' 2>/dev/null; rm -rf '\(path)'")
    }

    func write(_ relative: String, _ contents: String, mode: mode_t = 0o644) throws {
        let full = path + "/" + relative
        if let slash = full.lastIndex(of: "/") { try Directory.make(String(full[..<slash])) }
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        #expect(fd >= 0)
        defer { close(fd) }
        try FileIO.writeAll(fd, Array(contents.utf8), path: full)
    }

    func read(_ relative: String) -> String? {
        (try? FileIO.readFile(path + "/" + relative)).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ relative: String) -> Bool {
        var st = stat()
        return lstat(path + "/" + relative, &st) == 0
    }

    func names(_ relative: String = "") throws -> [String] {
        try Directory.names(atPath: relative.isEmpty ? path : path + "/" + relative)
    }
}
