import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// Blobs a writer has stored under the shared lock and not yet named in the index: `load` and
/// `commit` store their blobs sharing the lock with runs and other writers, then take the
/// exclusive lock to record them, and a prune between the two would delete them as unused. A pin
/// keeps them: `pins/<id>` lists their digests, and its flock, held by the writer, says it is
/// still alive (a writer killed between the two steps leaves a pin nobody holds, which the next
/// sweep removes, and the blobs go with it).
///
/// A pin is made while the shared lock is held, so a sweep (which holds the exclusive lock)
/// never sees one half made.
final class BlobPin {
    private var fd: Int32
    private let path: String

    fileprivate init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Drops the pin: call once the blobs are named in the index (or were given up).
    func release() {
        guard fd >= 0 else { return }
        unlink(path)
        close(fd)
        fd = -1
    }

    deinit { release() }
}

extension ImageStore {
    var pinsDirectory: String { root + "/pins" }

    /// Pins `digests` for the caller, who holds the store lock (shared).
    func pinBlobs(_ digests: [Digest]) throws -> BlobPin {
        do {
            try Directory.make(pinsDirectory, mode: 0o700)
        } catch {
            throw ImageStoreError(.systemError, "cannot create \(pinsDirectory) (\(error.call))", errno: error.errno)
        }
        // Unique among live writers: a pid is one process's while it runs, and the clock tells
        // one pin of a process from its next.
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let path = pinsDirectory + "/\(getpid())-\(now.tv_sec)-\(now.tv_nsec)"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ImageStoreError(.systemError, "cannot create the pin \(path)", errno: errno) }
        let pin = BlobPin(fd: fd, path: path)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            throw ImageStoreError(.systemError, "cannot lock the pin \(path)", errno: errno)
        }
        let text = digests.map { $0.description + "\n" }.joined()
        do {
            try FileIO.writeAll(fd, Array(text.utf8), path: path)
        } catch {
            throw ImageStoreError(.systemError, "cannot write the pin \(path)", errno: error.errno)
        }
        return pin
    }

    /// The digests of every live pin; pins whose writer is gone are removed. Only with the
    /// exclusive lock held.
    func pinnedBlobs() -> Set<Digest> {
        var pinned = Set<Digest>()
        for name in listDirectory(pinsDirectory) {
            let path = pinsDirectory + "/" + name
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            if flock(fd, LOCK_SH | LOCK_NB) == 0 {
                // Nobody holds it: its writer died before recording its blobs.
                unlink(path)
                continue
            }
            guard let bytes = try? FileIO.readAll(fd, path: path) else { continue }
            for line in bytes.split(separator: UInt8(ascii: "\n")) {
                if let digest = Digest(String(decoding: line, as: UTF8.self)) { pinned.insert(digest) }
            }
        }
        return pinned
    }
}
