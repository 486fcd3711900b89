import FileSystem
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// /etc/subuid or /etc/subgid: lines of "name:first:count", the host ids each user may map.
/// berth takes the ranges of its containers' user namespaces from the `berth` user's.
struct SubordinateIDFile {
    struct Entry: Equatable {
        var name: String
        var first: UInt32
        var count: UInt32
        var end: UInt64 { UInt64(first) + UInt64(count) }
    }

    let path: String
    private(set) var text: String
    private(set) var entries: [Entry]

    /// Reads and checks the file; a missing file has no entries. A line that is not
    /// "name:first:count" is an error naming the file and the line: the range berth would pick
    /// beside it could overlap what it means.
    static func read(_ path: String) throws -> SubordinateIDFile {
        let text: String
        do {
            text = String(decoding: try FileIO.readFile(path), as: UTF8.self)
        } catch where error.errno == ENOENT {
            return SubordinateIDFile(path: path, text: "", entries: [])
        } catch {
            throw ContainerError.system("cannot read \(path)", errno: error.errno)
        }
        var entries: [Entry] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, !fields[0].isEmpty, let first = UInt32(fields[1]), let count = UInt32(fields[2]),
                  count > 0, UInt64(first) + UInt64(count) <= UInt64(UInt32.max) else {
                throw ContainerError(.corrupt, "\(path) line \(number + 1) is not \"name:first:count\" (\"\(trimmed)\"): "
                                     + "correct or remove it")
            }
            entries.append(Entry(name: String(fields[0]), first: first, count: count))
        }
        return SubordinateIDFile(path: path, text: text, entries: entries)
    }

    /// The ranges of `name` (a user may have several lines).
    func ranges(of name: String) -> [Entry] { entries.filter { $0.name == name } }

    /// Adds a range of `count` ids for `name` after every range the file holds (and not below
    /// 100000, where login.defs starts them), aligned to 65536, and writes the file atomically.
    mutating func addRange(for name: String, count: UInt32) throws -> Entry {
        let alignment: UInt64 = 65536
        let after = max(entries.map(\.end).max() ?? 0, 100_000)
        let first = (after + alignment - 1) / alignment * alignment
        guard first + UInt64(count) <= UInt64(UInt32.max) else {
            throw ContainerError(.invalidState, "\(path) has no room for \(count) more ids after its last range: "
                                 + "add a \"\(name):first:count\" line yourself")
        }
        let entry = Entry(name: name, first: UInt32(first), count: count)
        let line = "\(name):\(entry.first):\(count)\n"
        let newText = text.isEmpty || text.hasSuffix("\n") ? text + line : text + "\n" + line
        do {
            try AtomicFile.replace(path, with: Array(newText.utf8), mode: 0o644, durable: true)
        } catch {
            throw ContainerError.system("cannot \(error.call) \(error.path)", errno: error.errno)
        }
        text = newText
        entries.append(entry)
        return entry
    }
}
