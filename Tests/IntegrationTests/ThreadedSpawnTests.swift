import Foundation
import Logging
import Runtime
import Synchronization
import Testing

extension Containers {
    /// The spawn path from a process whose other threads are inside malloc, a mutex or thread
    /// creation at any moment, as the deploy supervisor and the builder will be. A child that used
    /// glibc's setuid or fork after clone could inherit one of their locks held, and wait forever.
    @Suite("Spawn from a busy multi-threaded process")
    struct ThreadedSpawn {
        let fixture = Fixture.shared

        /// Cgroup hierarchies a container's cgroup can appear in (v1 controllers, or v2's root).
        static func cgroupDirectories(of cgroup: CgroupPath) -> [String] {
            let root = "/sys/fs/cgroup"
            let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            return ([root] + hierarchies.map { root + "/" + $0 }).map { $0 + cgroup.description }
        }

        @Test("100 containers, some as a user with groups and some under the init, start and end while 4 threads churn",
              .timeLimit(.minutes(4)))
        func hundredContainers() throws {
            if let setupError = fixture.setupError { throw FixtureError(message: setupError) }
            let churn = try Churn(threads: 4, atMost: .seconds(200))
            defer { churn.stop() }
            // Far below the default: a child stuck on an inherited lock fails its launch within
            // seconds instead of holding the test until its time limit.
            let launcher = Launcher(cgroups: makeCgroupDriver(), cgroupParent: fixture.cgroupParent,
                                    seccompCache: nil, logger: Logger(label: "test"), setupTimeout: .seconds(15))
            let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
            guard devNull >= 0 else { throw FixtureError(message: "open /dev/null failed") }
            defer { close(devNull) }

            var cgroups: [CgroupPath] = []
            var running: [LaunchedContainer] = []
            defer {
                // Whatever a failure left: kill and reap what runs, remove every cgroup.
                for container in running { _ = ThreadedSpawn.end(container, within: .seconds(10), kill: true) }
                for cgroup in cgroups { try? launcher.cgroups.destroy(cgroup) }
            }

            let started = ContinuousClock.now
            var failures = 0
            for i in 0..<100 where failures < 3 {
                let expected = Int32(i % 120)
                let asUser = i % 2 == 1
                var config = ContainerConfig(id: ContainerID.generate(), rootfs: fixture.rootfs, args: [],
                                             env: ["PATH=/bin:/usr/bin"])
                if asUser {
                    // setgroups, setresgid and setresuid all run in the child; checked from inside.
                    let uid = UInt32(1000 + i % 3)
                    config.user = ProcessUser(uid: uid, gid: 1000, additionalGids: [1001, 1002])
                    config.args = ["/bin/sh", "-c",
                                   "[ \"$(id -u) $(id -G)\" = \"\(uid) 1000 1001 1002\" ] || exit 99; exit \(expected)"]
                } else {
                    config.args = ["/bin/sh", "-c", "exit \(expected)"]
                }
                config.capabilities = ProcessCapabilities.forUser(uid: config.user.uid, set: .containerDefault)
                config.useInit = i % 3 == 0
                cgroups.append(launcher.cgroupPath(for: config.id))

                let container: LaunchedContainer
                do {
                    container = try launcher.launch(config, io: LaunchIO(stdin: devNull, stdout: devNull, stderr: devNull))
                } catch {
                    failures += 1
                    Issue.record("container \(i) (user: \(asUser), init: \(config.useInit)) did not start: \(error)")
                    continue
                }
                running.append(container)
                let status = ThreadedSpawn.end(container, within: .seconds(30), kill: false)
                running.removeLast()
                #expect(status == expected, "container \(i) (user: \(asUser), init: \(config.useInit))")
                if status != expected { failures += 1 }
                do {
                    try launcher.cgroups.destroy(container.cgroup)
                } catch {
                    Issue.record("container \(i)'s cgroup could not be removed: \(error)")
                }
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed < .seconds(150), "100 starts took \(elapsed)")
            #expect(churn.iterations > 1000, "the other threads were busy the whole time")

            for cgroup in cgroups {
                for dir in ThreadedSpawn.cgroupDirectories(of: cgroup) {
                    #expect(!FileManager.default.fileExists(atPath: dir), "left behind: \(dir)")
                }
            }
        }

        /// Waits at most `timeout` for the container's process to end and returns its exit code
        /// (nil on timeout, after which it is killed and reaped). `kill` ends it at once.
        static func end(_ container: LaunchedContainer, within timeout: Duration, kill killFirst: Bool) -> Int32? {
            defer { if container.pidfd >= 0 { close(container.pidfd) } }
            if killFirst { kill(container.pid, SIGKILL) }
            var ended = true
            if container.pidfd >= 0 {
                var p = pollfd(fd: container.pidfd, events: Int16(POLLIN), revents: 0)
                let deadline = ContinuousClock.now + timeout
                var ready: Int32 = 0
                for _ in 0..<1000 {
                    let left = deadline - ContinuousClock.now
                    guard left > .zero else { break }
                    ready = poll(&p, 1, Int32(left.components.seconds * 1000 + 1))
                    if ready >= 0 || errno != EINTR { break }
                }
                ended = ready == 1
            }
            if !ended { kill(container.pid, SIGKILL) }
            var status: Int32 = 0
            for _ in 0..<1000 where waitpid(container.pid, &status, 0) < 0 && errno == EINTR {}
            return ended && !killFirst ? (status >> 8) & 0xff : nil
        }
    }
}

extension Containers {
    /// The launcher's deadline on a child whose setup does not finish: a real container's, held
    /// back by its cgroup's CPU quota (1 ms per second) while it runs a hundred bind mounts, so
    /// it is still in its setup when the deadline passes.
    @Suite("Setup deadline")
    struct SetupDeadline {
        let fixture = Fixture.shared

        @Test("a setup that outlasts the deadline is stopped, reported in one sentence, and leaves nothing behind",
              .timeLimit(.minutes(1)))
        func slowSetupTimesOut() throws {
            if let setupError = fixture.setupError { throw FixtureError(message: setupError) }
            let source = fixture.workspace.appendingPathComponent("deadline-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: source) }
            var config = ContainerConfig(id: ContainerID.generate(), rootfs: fixture.rootfs, args: ["/bin/true"],
                                         env: ["PATH=/bin:/usr/bin"])
            config.bindMounts = (0..<100).map { BindMount(source: source, destination: "/slow/\($0)", readOnly: true) }
            config.resources = ResourceLimits(cpu: CPUBandwidth(quotaMicros: 1000, periodMicros: 1_000_000))
            let launcher = Launcher(cgroups: makeCgroupDriver(), cgroupParent: fixture.cgroupParent,
                                    seccompCache: nil, logger: Logger(label: "test"), setupTimeout: .seconds(1))
            let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
            guard devNull >= 0 else { throw FixtureError(message: "open /dev/null failed") }
            defer { close(devNull) }
            let cgroup = launcher.cgroupPath(for: config.id)
            defer { try? launcher.cgroups.destroy(cgroup) }

            let started = ContinuousClock.now
            var thrown: (any Error)?
            do {
                let container = try launcher.launch(config, io: LaunchIO(stdin: devNull, stdout: devNull, stderr: devNull))
                _ = ThreadedSpawn.end(container, within: .seconds(10), kill: true)
            } catch {
                thrown = error
            }
            let elapsed = ContinuousClock.now - started
            let error = try #require(thrown as? RuntimeError, "the launch should have failed at its deadline")
            #expect(error.message.hasPrefix("the container's setup did not finish within 1 second and was stopped"),
                    "\(error)")
            #expect(elapsed >= .seconds(1) && elapsed < .seconds(20), "gave up after \(elapsed)")
            for dir in ThreadedSpawn.cgroupDirectories(of: cgroup) {
                #expect(!FileManager.default.fileExists(atPath: dir), "left behind: \(dir)")
            }
            let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
            #expect(!mounts.contains(source), "the container's mounts are gone with it")
        }
    }
}

/// Threads that keep malloc's arenas, a pthread mutex and glibc's thread list (the lock setuid
/// and thread creation share) busy until stopped, or at most `atMost`.
final class Churn {
    private let state: ChurnState
    private let threads: [pthread_t]

    init(threads count: Int, atMost limit: Duration) throws {
        let state = ChurnState(until: ContinuousClock.now + limit)
        var started: [pthread_t] = []
        for index in 0..<count {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(ChurnContext(state: state, index: index)).toOpaque()
            guard pthread_create(&thread, nil, churnMain, context) == 0 else {
                Unmanaged<ChurnContext>.fromOpaque(context).release()
                state.stop.store(true, ordering: .relaxed)
                for t in started { pthread_join(t, nil) }
                throw FixtureError(message: "pthread_create failed")
            }
            started.append(thread)
        }
        self.state = state
        self.threads = started
    }

    var iterations: Int { state.iterations.load(ordering: .relaxed) }

    func stop() {
        state.stop.store(true, ordering: .relaxed)
        for t in threads { pthread_join(t, nil) }
    }
}

// Shared with the churn threads through an opaque pointer; the mutex is only ever used
// through pthread calls, and the rest is atomic or immutable.
private final class ChurnState: @unchecked Sendable {
    let stop = Atomic<Bool>(false)
    let iterations = Atomic<Int>(0)
    let until: ContinuousClock.Instant
    let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init(until: ContinuousClock.Instant) {
        self.until = until
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
}

private final class ChurnContext {
    let state: ChurnState
    let index: Int
    init(state: ChurnState, index: Int) {
        self.state = state
        self.index = index
    }
}

private func churnMain(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let raw else { return nil }
    let context = Unmanaged<ChurnContext>.fromOpaque(raw).takeRetainedValue()
    let state = context.state
    var size = 16 + context.index * 977
    var count = 0
    while !state.stop.load(ordering: .relaxed) {
        // Sizes from a few bytes to past the mmap threshold, so both arenas and mmap are hit.
        size = (size * 1103 + 12345) % (300 * 1024) + 1
        if let p = malloc(size) {
            memset(p, 0x5a, min(size, 4096))
            free(p)
        }
        pthread_mutex_lock(state.mutex)
        count += 1
        pthread_mutex_unlock(state.mutex)
        // One thread makes and joins threads: glibc holds its thread-list lock meanwhile,
        // the lock its setuid would take in the child.
        if context.index == 0 {
            var t = pthread_t()
            if pthread_create(&t, nil, { _ in nil }, nil) == 0 { pthread_join(t, nil) }
        }
        if count % 1024 == 0 {
            state.iterations.add(1024, ordering: .relaxed)
            if ContinuousClock.now > state.until { break }
        }
    }
    return nil
}
