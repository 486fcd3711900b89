import CSpawn
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// berth-entry (Sources/berth-entry), the program every process berth starts in a container execs
/// before its command, so that none of them is ever berth's own binary: what a container could
/// reach through /proc/PID/exe (or a command or script interpreter naming /proc/self/exe) is a
/// sealed memfd copy of this small program, which nothing can write (CVE-2019-5736). The copy is
/// made at a process's first launch and serves all of its containers.
enum EntryProgram {
    /// berth-entry's file: beside the running executable (berth, or a test bundle in the build
    /// directory), where the build puts it and an installation must too.
    static var path: String {
        RunningExecutable.directory(of: RunningExecutable.path ?? "") + "/berth-entry"
    }

    private static let sealed = Mutex<Int32>(-1)

    /// The sealed copy's fd (close-on-exec, kept for the life of the process).
    static func sealedCopy() throws(RuntimeError) -> Int32 {
        try sealed.withLock { (fd: inout Int32) throws(RuntimeError) -> Int32 in
            if fd >= 0 { return fd }
            let file = path
            let copy = berth_sealed_copy(file)
            guard copy >= 0 else {
                throw RuntimeError(-copy == ENOENT ? .notFound : .systemError,
                                   "cannot start the container: berth-entry, which starts its command, could not be read "
                                   + "from \(file) (it is built and installed beside berth)", errno: -copy)
            }
            fd = copy
            return copy
        }
    }
}
