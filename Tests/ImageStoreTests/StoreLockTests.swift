import Foundation
import ImageStore
import Testing

/// The store lock: shared holders coexist, an exclusive holder waits for everyone else.
@Suite("Store lock")
struct StoreLockTests {
    let path = NSTemporaryDirectory() + "berth-lock-\(UUID().uuidString)"

    @Test("shared locks coexist; exclusive waits until they are released")
    func exclusion() throws {
        defer { unlink(path) }
        let first = try StoreLock(path: path, mode: .shared)
        let second = try StoreLock(path: path, mode: .shared)
        let acquired = Flag()
        let lockPath = path
        let writer = Thread {
            if let lock = try? StoreLock(path: lockPath, mode: .exclusive) {
                acquired.set()
                lock.unlock()
            }
        }
        writer.start()
        // The writer is queued on the lock, not merely slow to start.
        #expect(eventually { Self.blockedFlocks(on: lockPath) > 0 })
        #expect(!acquired.value)
        first.unlock()
        // The release wakes the writer, which must find the second reader and queue again: this
        // pause is the scenario, the time the writer would need to get through wrongly.
        usleep(50_000)
        #expect(eventually { Self.blockedFlocks(on: lockPath) > 0 })
        #expect(!acquired.value)
        second.unlock()
        #expect(eventually { acquired.value })
    }

    /// How many flock requests of this process wait for the file, as the kernel lists them in
    /// /proc/locks (`N: -> FLOCK ADVISORY WRITE <pid> <maj>:<min>:<inode> 0 EOF`).
    static func blockedFlocks(on path: String) -> Int {
        var info = stat()
        guard stat(path, &info) == 0, let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else {
            return 0
        }
        return table.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ")
            return fields.count >= 7 && fields[1] == "->" && fields[2] == "FLOCK" && fields[5] == "\(getpid())"
                && fields[6].split(separator: ":").last == "\(info.st_ino)"
        }.count
    }

    @Test("a lock file that cannot be created is a clear error")
    func unwritable() {
        let error = #expect(throws: ImageStoreError.self) { try StoreLock(path: "/nonexistent/dir/lock", mode: .shared) }
        #expect(error?.description.hasPrefix("cannot open the store lock /nonexistent/dir/lock") == true)
    }
}

/// A boolean set by one thread and read by another.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var state = false
    var value: Bool { lock.withLock { state } }
    func set() { lock.withLock { state = true } }
}
