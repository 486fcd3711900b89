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
        usleep(150_000)
        #expect(!acquired.value)
        first.unlock()
        usleep(50_000)
        #expect(!acquired.value)
        second.unlock()
        let deadline = Date().addingTimeInterval(5)
        while !acquired.value && Date() < deadline { usleep(10_000) }
        #expect(acquired.value)
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
