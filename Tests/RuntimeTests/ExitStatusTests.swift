#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Runtime

/// Swift Testing has an ExitStatus of its own (exit tests).
typealias RuntimeExitStatus = Runtime.ExitStatus

/// How a container's end becomes berth's exit code: the code, or 128 + the signal.
@Suite("Exit status") struct ExitStatusTests {
    @Suite("codes") struct Codes {
        @Test(arguments: [
            (RuntimeExitStatus.exited(0), 0), (.exited(3), 3), (.exited(255), 255),
            (.signaled(SIGKILL), 137), (.signaled(SIGTERM), 143), (.signaled(SIGINT), 130),
        ] as [(RuntimeExitStatus, Int32)])
        func shellConvention(status: RuntimeExitStatus, code: Int32) {
            #expect(status.code == code)
        }
    }

    @Suite("wait statuses") struct WaitStatuses {
        /// Encoded as the kernel does (exit code in bits 8-15, signal in 0-6, core flag 0x80).
        @Test(arguments: [
            (0x0000, RuntimeExitStatus.exited(0)), (0x0300, .exited(3)), (0xff00, .exited(255)),
            (0x0009, .signaled(9)), (0x000f, .signaled(15)), (0x008b, .signaled(11)),
        ] as [(Int32, RuntimeExitStatus)])
        func decoded(raw: Int32, status: RuntimeExitStatus) {
            #expect(RuntimeExitStatus(waitStatus: raw) == status)
        }

        /// Real processes, so the encoding above is checked against the kernel's.
        @Test(arguments: [
            ("exit 0", RuntimeExitStatus.exited(0), 0), ("exit 3", .exited(3), 3), ("exit 255", .exited(255), 255),
            ("kill -9 $$", .signaled(9), 137), ("kill -15 $$", .signaled(15), 143),
        ] as [(String, RuntimeExitStatus, Int32)])
        func fromWaitpid(script: String, status: RuntimeExitStatus, code: Int32) throws {
            let pid = try spawnShell(script)
            var raw: Int32 = 0
            var r: pid_t
            repeat { r = waitpid(pid, &raw, 0) } while r < 0 && errno == EINTR
            try #require(r == pid)
            let decoded = RuntimeExitStatus(waitStatus: raw)
            #expect(decoded == status)
            #expect(decoded.code == code)
        }

        @Test(arguments: [
            ("exit 0", RuntimeExitStatus.exited(0)), ("exit 3", .exited(3)), ("exit 255", .exited(255)),
            ("kill -9 $$", .signaled(9)), ("kill -15 $$", .signaled(15)),
        ] as [(String, RuntimeExitStatus)])
        func fromWaitid(script: String, status: RuntimeExitStatus) throws {
            let pid = try spawnShell(script)
            var info = siginfo_t()
            var r: Int32
            repeat { r = waitid(P_PID, id_t(pid), &info, WEXITED) } while r < 0 && errno == EINTR
            try #require(r == 0)
            #expect(RuntimeExitStatus(siginfo: info) == status)
        }
    }
}

/// Starts `/bin/sh -c script` with every signal at its default and none blocked.
private func spawnShell(_ script: String) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(script), nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, "/bin/sh", nil, &attributes, argv, nil)
    try #require(rc == 0, "posix_spawn /bin/sh: \(rc)")
    return pid
}
