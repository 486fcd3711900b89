#if canImport(Glibc)
import Glibc
#endif

/// An flock on a lock file, made if missing (0600, never through a symlink). The kernel lets go
/// of it when its holder dies, so a killed berth never leaves it taken.
public enum FileLock {
    /// Opens `path` and waits for the lock, exclusive or shared; the fd returned holds it until
    /// it is closed. The error's call says which step failed ("open" or "flock").
    public static func acquire(_ path: String, shared: Bool = false) throws(FileSystemError) -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw FileSystemError("open", path) }
        while flock(fd, shared ? LOCK_SH : LOCK_EX) != 0 {
            guard errno == EINTR else {
                let error = FileSystemError("flock", path)
                close(fd)
                throw error
            }
        }
        return fd
    }
}
