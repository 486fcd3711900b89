#if canImport(Glibc)
import Glibc
#endif

/// The lock that puts one container's start, stop, restart and remove in a line: a flock on
/// `containers/<id>/lifecycle.lock`, held by the berth command doing one of them, and waited for
/// by the others. Without it two of them interleave: a second `start` finds the first one's
/// monitor half set up, a `restart`'s stop waits 10 s for the container another restart has
/// just started, and two `rm -f` both report the removal.
///
/// It is not the directory's own flock, which `remove` takes: a `--rm` container's monitor
/// removes the container at its end while a `stop` holding this lock waits for that end.
/// The kernel lets go of it when its holder dies, so a killed command blocks nobody.
public final class LifecycleLock: @unchecked Sendable {
    private var fd: Int32

    fileprivate init(fd: Int32) { self.fd = fd }

    deinit { release() }

    /// Lets the next waiting command go on; also done when the lock is dropped.
    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }
}

extension ContainerStore {
    /// Waits for the container's lifecycle lock, then reads its record again: what another
    /// command did while this one waited (a start, a removal) is what the caller sees. Throws
    /// "no such container" when the container was removed before or meanwhile.
    public func lockLifecycle(of record: ContainerRecord) throws -> (LifecycleLock, ContainerRecord) {
        let path = directory(of: record.id) + "/lifecycle.lock"
        // Made by the first command that needs it: a container nobody starts or stops never has one.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            if errno == ENOENT { throw ContainerError(.notFound, "no such container: \(record.name)") }
            throw ContainerError.system("cannot open \(path)")
        }
        let lock = LifecycleLock(fd: fd)
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw ContainerError.system("cannot lock \(path)") }
        }
        // A removal renames the directory away while its remover holds this lock: the record
        // is no longer found under its id once the lock comes to this command.
        do {
            return (lock, try load(id: record.id))
        } catch let error as ContainerError where error.code == .notFound {
            throw ContainerError(.notFound, "no such container: \(record.name)")
        }
    }
}
