#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A child process for the real-kernel cgroup tests: `/bin/sh -c script`, spawned with
/// posix_spawn (no Foundation.Process, which reaps on its own), its stdin a pipe so a script can
/// wait (`read _`) until the test has put it into a cgroup.
final class CgroupTestProcess {
    let pid: pid_t
    private var stdinWriter: Int32
    private var reaped = false

    init(script: String) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Errno(rawValue: errno) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // only the dup2'd stdin reaches the child
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)  // dup2 clears close-on-exec
        let arguments: [String] = ["/bin/sh", "-c", script]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, "/bin/sh", &actions, nil, argv, environ)
        close(fds[0])
        guard result == 0 else {
            close(fds[1])
            throw Errno(rawValue: result)
        }
        pid = child
        stdinWriter = fds[1]
    }

    /// Lets a script waiting in `read _` go on.
    func release() {
        _ = write(stdinWriter, "\n", 1)
        close(stdinWriter)
        stdinWriter = -1
    }

    /// Waits for the child and returns its wait status.
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
        return status
    }

    /// The signal that ended the child, if one did.
    static func terminatingSignal(_ status: Int32) -> Int32? {
        let signal = status & 0x7f
        return signal != 0 && signal != 0x7f ? signal : nil
    }

    deinit {
        if stdinWriter >= 0 { close(stdinWriter) }
        if !reaped {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}
