#if canImport(Glibc)
import Glibc
#endif

/// The image store's lock: a flock on one file. Readers that must see a consistent store
/// (run, images) take it shared; anything that writes index.json or removes content (import,
/// commit, tag, rmi, prune) takes it exclusively. No daemon: concurrent berth commands queue.
public final class StoreLock: @unchecked Sendable {
    public enum Mode: Sendable { case shared, exclusive }

    private var fd: Int32

    /// Blocks until the lock is held.
    public init(path: String, mode: Mode) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ImageStoreError(.systemError, "cannot open the store lock \(path)", errno: errno) }
        while flock(fd, mode == .shared ? LOCK_SH : LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let err = errno
            close(fd)
            throw ImageStoreError(.systemError, "cannot lock the image store (\(path))", errno: err)
        }
    }

    /// Takes the lock only if nobody holds it in a conflicting mode right now; nil otherwise.
    public init?(tryPath path: String, mode: Mode) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        while flock(fd, (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            close(fd)
            return nil
        }
    }

    /// Releases the lock (also done when the process ends, however it ends).
    public func unlock() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { unlock() }
}
