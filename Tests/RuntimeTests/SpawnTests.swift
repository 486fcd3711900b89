import CSpawn
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Runtime

/// The C spawn path on its own: the PATH join's bounds, the deadline on the wait for exec, the
/// init's fork, berth-entry. The children here have no namespaces, root or user change, so no root is needed.
@Suite("Spawn") struct SpawnTests {
    @Suite("PATH join") struct PathJoin {
        /// Joins into a buffer of `size` bytes followed by guard bytes, so a write past `size`
        /// shows. Returns the result, the joined text, and whether the guard bytes are intact.
        static func join(size: Int, dir: String, name: String) -> (rc: Int32, text: String, guardIntact: Bool) {
            let guardCount = 16
            var buffer = [CChar](repeating: 0x55, count: size + guardCount)
            let rc = buffer.withUnsafeMutableBufferPointer { b in
                dir.withCString { d in berth_join_path(b.baseAddress, size, d, strlen(d), name) }
            }
            let intact = buffer[size...].allSatisfy { $0 == 0x55 }
            let text = rc >= 0 ? String(decoding: buffer[..<Int(rc)].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
            return (rc, text, intact)
        }

        @Test("dir + '/' + name + NUL fills the buffer exactly, and one byte more is refused")
        func exactFit() {
            // "abc" + "/" + 11 + NUL = 16
            let fits = Self.join(size: 16, dir: "abc", name: String(repeating: "n", count: 11))
            #expect(fits.rc == 15)
            #expect(fits.text == "abc/" + String(repeating: "n", count: 11))
            #expect(fits.guardIntact)
            let over = Self.join(size: 16, dir: "abc", name: String(repeating: "n", count: 12))
            #expect(over.rc == -ENAMETOOLONG)
            #expect(over.guardIntact)
        }

        @Test("an empty entry is '.', and its extra byte counts toward the bound")
        func emptyEntry() {
            // "." + "/" + 13 + NUL = 16; the old bound forgot the "." and let 14 through, one
            // byte past the buffer.
            let fits = Self.join(size: 16, dir: "", name: String(repeating: "n", count: 13))
            #expect(fits.rc == 15)
            #expect(fits.text == "./" + String(repeating: "n", count: 13))
            #expect(fits.guardIntact)
            let over = Self.join(size: 16, dir: "", name: String(repeating: "n", count: 14))
            #expect(over.rc == -ENAMETOOLONG)
            #expect(over.guardIntact)
        }

        @Test("a directory as long as the buffer, or longer, is refused",
              arguments: [15, 16, 17, 4096])
        func longDirectory(length: Int) {
            let r = Self.join(size: 16, dir: String(repeating: "d", count: length), name: "x")
            #expect(r.rc == -ENAMETOOLONG)
            #expect(r.guardIntact)
        }

        @Test("the page-sized buffer the child uses: 4094 bytes of dir and name in all")
        func pageBuffer() {
            let dir = "/" + String(repeating: "d", count: 3000)
            let fits = Self.join(size: 4096, dir: dir, name: String(repeating: "n", count: 4094 - dir.count))
            #expect(fits.rc == 4095 && fits.guardIntact)
            let over = Self.join(size: 4096, dir: dir, name: String(repeating: "n", count: 4095 - dir.count))
            #expect(over.rc == -ENAMETOOLONG && over.guardIntact)
        }
    }

    @Suite("setup deadline") struct SetupDeadline {
        @Test("the timeout message names the limit and the system call that held the setup")
        func message() {
            let error = Launcher.setupTimedOut(after: .seconds(60), blockedIn: "mount")
            #expect(error.code == .systemError)
            #expect(error.description == "the container's setup did not finish within 60 seconds and was stopped "
                + "(it was waiting in mount(2)); a mount whose source does not answer, such as a hung NFS or "
                + "FUSE server, can hold it")
            let unknown = Launcher.setupTimedOut(after: .milliseconds(1500), blockedIn: nil)
            #expect(unknown.description.hasPrefix("the container's setup did not finish within 1500 ms and was stopped; "))
        }

        @Test("durations become poll's milliseconds, clamped to what an Int32 holds",
              arguments: [(Duration.seconds(60), Int32(60_000)), (.milliseconds(1500), 1500), (.zero, 0),
                          (.seconds(-1), 0), (.seconds(Int64.max / 2), Int32.max)])
        func milliseconds(duration: Duration, expected: Int32) {
            #expect(Launcher.milliseconds(duration) == expected)
        }
    }

    @Suite("children") struct Children {
        @Test("a child that never finishes its setup ends the wait at the deadline, and is then killed and reaped")
        func deadline() throws {
            // Never released, the child waits for berth in read(2): a setup that does not end.
            let spawn = try PlainSpawn(argv: ["/bin/true"])
            var result = try spawn.start(release: false)
            let start = ContinuousClock.now
            var failure = berth_child_error()
            let outcome = berth_wait_exec(&result, &failure, 300)
            let waited = ContinuousClock.now - start
            #expect(outcome == -ETIMEDOUT)
            #expect(waited >= .milliseconds(290) && waited < .seconds(10), "waited \(waited)")
            #expect(result.error_fd == -1, "the error pipe is closed after the wait")
            #expect(berth_blocked_syscall(result.pid).map { String(cString: $0) } == "read")
            let pid = result.pid
            #expect(berth_kill_and_reap(&result, 10_000) == 0)
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "the child is reaped, not a zombie")
            #expect(result.pidfd == -1 && result.release_fd == -1)
        }

        @Test("a released child that execs ends the wait with 0 long before the deadline")
        func execBeforeDeadline() throws {
            let spawn = try PlainSpawn(argv: ["/bin/sh", "-c", "exit 3"])
            var result = try spawn.start()
            var failure = berth_child_error()
            #expect(berth_wait_exec(&result, &failure, 30_000) == 0)
            #expect(try PlainSpawn.exitStatus(&result) == 3)
        }

        @Test("PATH entries too long to join with the name are skipped")
        func longEntriesSkipped() throws {
            let long = "/" + String(repeating: "a", count: 5000)
            let spawn = try PlainSpawn(argv: ["true"], path: long + "::" + long + ":/bin")
            var result = try spawn.start()
            var failure = berth_child_error()
            let outcome = berth_wait_exec(&result, &failure, 30_000)
            #expect(outcome == 0, "step \(failure.step) errno \(failure.error)")
            #expect(try PlainSpawn.exitStatus(&result) == 0)
        }

        @Test("a PATH whose every entry is too long reports ENAMETOOLONG at exec, not 'not found'")
        func onlyLongEntries() throws {
            let long = "/" + String(repeating: "a", count: 5000)
            let spawn = try PlainSpawn(argv: ["true"], path: long + ":" + long)
            var result = try spawn.start()
            var failure = berth_child_error()
            #expect(berth_wait_exec(&result, &failure, 30_000) == 1)
            #expect(failure.step == Int32(BERTH_STEP_EXEC.rawValue) && failure.error == ENAMETOOLONG)
            _ = try PlainSpawn.exitStatus(&result)
        }

        @Test("the init forks the command without glibc's fork and exits with its status")
        func initForks() throws {
            let spawn = try PlainSpawn(argv: ["/bin/sh", "-c", "exit 7"], useInit: true)
            var result = try spawn.start()
            var failure = berth_child_error()
            #expect(berth_wait_exec(&result, &failure, 30_000) == 0)
            #expect(try PlainSpawn.exitStatus(&result) == 7)
        }
    }
}

/// A `berth_spawn_config` for a plain child of the test process and the C memory it points to.
final class PlainSpawn {
    private var config = berth_spawn_config()
    private var allocations: [UnsafeMutableRawPointer] = []
    private let devNull: Int32

    init(argv: [String], path: String? = nil, useInit: Bool = false) throws {
        devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devNull >= 0 else { throw RuntimeError.system("open /dev/null") }
        config.cgroup_fd = -1
        config.join_pidfd = -1
        config.stdio = (devNull, devNull, devNull)
        config.argv = strings(argv)
        config.envp = strings(["PATH=/bin:/usr/bin"])
        config.path = path.map { UnsafePointer(own(strdup($0))) }
        config.entry_fd = try EntryProgram.sealedCopy()
        config.use_init = useInit ? 1 : 0
        // Should the test process die, its children go too.
        config.parent_death_signal = SIGKILL
    }

    deinit {
        for p in allocations { free(p) }
        close(devNull)
    }

    /// Clones the child and, unless told not to, releases it into its setup.
    func start(release: Bool = true) throws -> berth_spawn_result {
        var result = berth_spawn_result()
        var cfg = config
        let rc = berth_spawn(&cfg, &result)
        guard rc == 0 else { throw RuntimeError(.systemError, "berth_spawn", errno: -rc) }
        if release {
            let released = berth_release(&result)
            guard released == 0 else {
                _ = berth_kill_and_reap(&result, 10_000)
                throw RuntimeError(.systemError, "berth_release", errno: -released)
            }
        }
        return result
    }

    /// Waits (at most 30 s) for the child to end and returns its exit code; kills it on timeout.
    static func exitStatus(_ result: inout berth_spawn_result) throws -> Int32 {
        defer {
            if result.pidfd >= 0 { close(result.pidfd); result.pidfd = -1 }
        }
        if result.pidfd >= 0 {
            var p = pollfd(fd: result.pidfd, events: Int16(POLLIN), revents: 0)
            var ready: Int32 = -1
            for _ in 0..<100 {
                ready = poll(&p, 1, 30_000)
                if ready >= 0 || errno != EINTR { break }
            }
            if ready != 1 {
                _ = berth_kill_and_reap(&result, 10_000)
                throw RuntimeError(.systemError, "the child did not end within 30 s")
            }
        }
        var status: Int32 = 0
        var reaped: pid_t = -1
        for _ in 0..<100 {
            reaped = waitpid(result.pid, &status, 0)
            if reaped >= 0 || errno != EINTR { break }
        }
        guard reaped == result.pid else { throw RuntimeError.system("waitpid") }
        return (status >> 8) & 0xff
    }

    private func own<T>(_ p: UnsafeMutablePointer<T>?) -> UnsafeMutablePointer<T> {
        guard let p else { fatalError("out of memory") }
        allocations.append(UnsafeMutableRawPointer(p))
        return p
    }

    private func own(_ p: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer {
        guard let p else { fatalError("out of memory") }
        allocations.append(p)
        return p
    }

    private func strings(_ list: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        let raw = own(calloc(list.count + 1, MemoryLayout<UnsafePointer<CChar>?>.stride))
        let array = raw.bindMemory(to: UnsafePointer<CChar>?.self, capacity: list.count + 1)
        for (i, s) in list.enumerated() { array[i] = UnsafePointer(own(strdup(s))) }
        array[list.count] = nil
        return UnsafePointer(array)
    }
}
