import Containers
import Foundation
import Logging
import Runtime
import Synchronization
import Testing

extension Containers {
    /// The engine as a library (issue 10): the lifecycle driven through `ContainerEngine`'s API
    /// with no CLI in between, and `--rootfs` containers reachable like any other while they run.
    @Suite("Engine")
    struct Engine {
        let fixture = Fixture.shared

        /// A container of the suite's image on no network, under the fixture's cgroup parent.
        func imageRequest(_ name: String?, _ command: [String]) -> ContainerRequest {
            var request = ContainerRequest(root: .image(LifecycleRoot.image), network: "none")
            request.name = name
            request.cgroupParent = fixture.cgroupParent
            request.command = command
            return request
        }

        @Test("create, start, exec, stop, start, restart, kill, remove: through the engine's API alone")
        func fullLifecycle() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let engine = try root.engine()

            var request = imageRequest("engine-web", ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
            request.env = ["GREETING=hello"]
            let created = try engine.create(request)
            #expect(created.record.state.status == .created)
            #expect(engine.state(of: created.record).status == .created)

            // The launch spec is what every later start reads: the same process, resolved once.
            let launch = try engine.store.launchConfig(of: created.record)
            #expect(launch.args == created.config.args)
            #expect(launch.env == created.config.env)
            #expect(launch.env.contains("GREETING=hello"))
            #expect(launch.capabilities == created.config.capabilities)
            #expect(launch.seccomp == created.config.seccomp)
            #expect(launch.resources == created.config.resources)
            #expect(launch.overlay == nil && created.config.overlay != nil)

            try engine.startDetached(created.record)
            var record = try engine.find("engine-web")
            #expect(engine.state(of: record).status == .running)
            let firstPid = record.state.pid
            #expect(firstPid > 0 && Kernel.isAlive(firstPid))

            #expect(try engine.exec(record, ExecRequest(command: ["sh", "-c", "test \"$GREETING\" = hello"])) == 0)
            #expect(try engine.exec(record, ExecRequest(command: ["sh", "-c", "exit 3"])) == 3)
            var asNobody = ExecRequest(command: ["sh", "-c", "test \"$(id -u)\" = 65534 && test \"$HOME\" = /nonexistent"])
            asNobody.user = "nobody"
            #expect(try engine.exec(record, asNobody) == 0)

            let stopStarted = Date()
            try engine.stop(record, timeout: 10)
            // The polite loop exits on TERM within its 0.1 s sleep: no waiting out the grace period.
            #expect(Date().timeIntervalSince(stopStarted) < 5)
            record = try engine.find(created.record.id)
            #expect(engine.state(of: record).status == .exited)
            #expect(record.state.exitCode == 0)
            #expect(!Kernel.isAlive(firstPid))
            let exitedExec = #expect(throws: ContainerError.self) { try engine.exec(record, ExecRequest(command: ["true"])) }
            #expect(exitedExec?.code == .invalidState)

            try engine.start(record)
            record = try engine.find("engine-web")
            #expect(engine.state(of: record).status == .running && record.state.pid != firstPid)
            let secondPid = record.state.pid
            try engine.restart(record, timeout: 10)
            record = try engine.find("engine-web")
            #expect(engine.state(of: record).status == .running && record.state.pid != secondPid)

            try engine.kill(record, signal: SIGKILL)
            #expect(engine.waitUntilStopped(record, seconds: 10))
            record = try engine.find("engine-web")
            #expect(record.state.exitCode == 128 + SIGKILL)

            try engine.remove(record, force: false)
            let gone = #expect(throws: ContainerError.self) { try engine.find("engine-web") }
            #expect(gone?.code == .notFound)
            #expect(root.leftovers().isEmpty, "\(root.leftovers())")
        }

        @Test("a record read while the container ran still gives its end: state(of:) and wait read the record again")
        func staleRecordGivesTheEnd() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let engine = try root.engine()
            let created = try engine.create(imageRequest("engine-stale", ["sleep", "60"]))
            try engine.startDetached(created.record)
            // What `wait`, `ps` or `inspect` hold when the monitor writes the end and lets go
            // of the lock between their read of the record and their look at the lock.
            let whileRunning = try engine.find("engine-stale")
            #expect(whileRunning.state.status == .running)
            try engine.kill(whileRunning, signal: SIGKILL)
            #expect(engine.waitUntilStopped(whileRunning, seconds: 10))
            let state = engine.state(of: whileRunning)
            #expect(state.status == .exited && state.exitCode == 128 + SIGKILL, "\(state)")
            #expect(try engine.wait(whileRunning) == 128 + SIGKILL)
            try engine.remove(try engine.find("engine-stale"), force: false)
            #expect(root.leftovers().isEmpty, "\(root.leftovers())")
        }

        @Test("-e NAME takes the caller's value once, at creation: a later start keeps it")
        func environmentIsResolvedAtCreation() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let engine = try root.engine()
            setenv("BERTH_ENGINE_TEST_VALUE", "first", 1)
            defer { unsetenv("BERTH_ENGINE_TEST_VALUE") }
            var request = imageRequest(nil, ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
            request.env = ["BERTH_ENGINE_TEST_VALUE", "BERTH_ENGINE_TEST_UNSET"]
            let created = try engine.create(request)
            #expect(created.record.config.env.contains("BERTH_ENGINE_TEST_VALUE=first"))
            #expect(!created.record.config.env.contains { $0.hasPrefix("BERTH_ENGINE_TEST_UNSET") })

            setenv("BERTH_ENGINE_TEST_VALUE", "second", 1)
            try engine.start(created.record)
            var record = try engine.find(created.record.id)
            #expect(try engine.exec(record, ExecRequest(command: ["sh", "-c", "test \"$BERTH_ENGINE_TEST_VALUE\" = first"])) == 0)
            try engine.restart(record, timeout: 10)
            record = try engine.find(created.record.id)
            #expect(try engine.exec(record, ExecRequest(command: ["sh", "-c", "test \"$BERTH_ENGINE_TEST_VALUE\" = first"])) == 0)
            try engine.remove(record, force: true)
            #expect(root.leftovers().isEmpty, "\(root.leftovers())")
        }

        @Test("detached starts from 4 threads at once: each monitor is its init's parent and holds only its own fds",
              .timeLimit(.minutes(3)))
        func concurrentDetachedStarts() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let engine = try root.engine()
            let created = try (0..<8).map { index in
                try engine.create(imageRequest("adopted-\(index)", ["sh", "-c", "echo started-\(index); exec sleep 60"]), sync: .deferred)
            }
            // Each thread's start leaves fds of its own open while the others fork their adopters:
            // a monitor that inherited another's ready pipe would hold that start until it ended.
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { thread in
                for (index, container) in created.enumerated() where index % 4 == thread {
                    do { try engine.startDetached(container) } catch { failures.withLock { $0.append("\(error)") } }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
            for container in created {
                let record = try engine.find(container.record.id)
                #expect(engine.state(of: record).status == .running)
                let monitor = try #require(Kernel.parent(of: record.state.pid))
                #expect(Kernel.comm(monitor) == "berth-monitor", "\(Kernel.commandLine(monitor))")
                // stdio on /dev/null, then the output pipes, the lock, and what it opens itself:
                // its pidfd, signalfd and log; nothing of the other starts or of this process.
                let fds = Kernel.fileDescriptors(of: monitor)
                #expect(fds.filter { $0.fd <= 2 }.allSatisfy { $0.target == "/dev/null" }, "\(fds)")
                let pipes = fds.filter { $0.target.hasPrefix("pipe:") }
                #expect(pipes.count == 2, "\(fds)")
                // The lock's file, by the name it was made under (then linked as `lock`).
                #expect(fds.filter { $0.target.contains("/containers/\(record.id)/lock") }.count == 1, "\(fds)")
                #expect(fds.count <= 9, "\(fds)")
                let line = "started-\(container.record.name.dropFirst("adopted-".count))"
                let logged = root.waitUntil(seconds: 10) {
                    (Kernel.read(engine.store.logPath(of: record.id)) ?? "").contains(line)
                }
                #expect(logged, "\(line) is not in the container's log")
            }
            for container in created { try engine.remove(try engine.find(container.record.id), force: true) }
            #expect(root.leftovers().isEmpty, "\(root.leftovers())")
        }

        @Test("a foreground container through the engine: its exit code, its record while it runs, nothing after")
        func foregroundRun() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let engine = try root.engine()
            var request = ContainerRequest(root: .directory(fixture.rootfs), network: "none")
            request.cgroupParent = fixture.cgroupParent
            request.command = ["/bin/sh", "-c", "exit 7"]
            let created = try engine.create(request)
            #expect(engine.list().map(\.id) == [created.record.id])
            #expect(created.record.rootfs == fixture.rootfs)
            let outcome = try engine.runForeground(created, interactive: false)
            #expect(outcome.exitCode == 7 && !outcome.oomKilled && outcome.memoryLimit == nil)
            #expect(engine.list().isEmpty)
            #expect(root.leftovers().isEmpty, "\(root.leftovers())")
        }

        @Test("run --rootfs: ps lists it while it runs; exec, inspect, kill and stop reach it by name; nothing stays")
        func rootfsContainerIsAContainer() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let spawned = try Spawned(fixture.berth, ["--root", root.path, "run", "--network", "none", "--cgroup-parent", fixture.cgroupParent,
                                                      "--name", "plain", "--rootfs", fixture.rootfs, "--",
                                                      "sh", "-c", "trap 'exit 5' TERM; while :; do sleep 0.1; done"],
                                      stdout: root.path + "/out", stderr: root.path + "/err")
            defer { _ = spawned.wait(seconds: 0) }
            try #require(root.waitUntil(seconds: 20) { (try? root.status("plain"))?.hasPrefix("Up") == true },
                         "ps never listed the --rootfs container")
            let listed = try root.list()
            #expect(listed.first?["Image"] as? String == fixture.rootfs)

            let exec = try root.berth(["exec", "plain", "sh", "-c", "echo inside; cat /proc/1/cmdline | tr '\\0' ' '"])
            #expect(exec.status == 0, "\(exec.stderr)")
            #expect(exec.stdout.contains("inside") && exec.stdout.contains("while"), "\(exec.stdout)")
            let state = try root.state("plain")
            #expect(state["Running"] as? Bool == true)
            #expect((try root.inspect("plain")["GraphDriver"] as? [String: Any])?["Name"] as? String == "rootfs")

            let stop = try root.berth(["stop", "plain"])
            #expect(stop.status == 0, "\(stop.stderr)")
            #expect(spawned.wait(seconds: 20) == 5)
            #expect(try root.list().isEmpty)
            #expect(root.leftovers().isEmpty, "\(root.leftovers())")
        }
    }
}

extension ContainerEngine {
    /// Waits for the container's supervisor to let go of it, polling the state as a user would.
    func waitUntilStopped(_ record: ContainerRecord, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !isRunning(record) { return true }
            usleep(20_000)
        }
        return !isRunning(record)
    }
}
