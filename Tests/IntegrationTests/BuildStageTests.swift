import Foundation
import Testing

extension Containers.Build {
    /// Issue 16: independent stages of a multi-stage build run at once. Two stages whose RUN
    /// sleeps 2 s each take 4 s one after the other; at once, the build takes little over 2 s.
    /// The stage that reads both waits for them, the steps keep their numbers, and the live view
    /// shows both running steps.
    @Test("independent stages are built concurrently; the stage that reads them after both")
    func concurrentStages() throws {
        let dockerfile = """
            FROM busybox:latest AS one
            RUN sleep 2 && echo one > /one
            FROM busybox:latest AS two
            RUN sleep 2 && echo two > /two
            FROM busybox:latest
            COPY --from=one /one /one
            COPY --from=two /two /two
            CMD ["cat", "/one", "/two"]
            """
        let root = try BuildRoot(fixture, files: ["Dockerfile": dockerfile])
        defer { root.destroy() }
        let started = Date()
        let built = try root.build(["--no-cache", "-t", "both:1", root.context])
        let elapsed = Date().timeIntervalSince(started)
        try #require(built.status == 0, "\(built.stderr)")
        #expect(elapsed < 3.8, "two 2 s stages at once took \(elapsed) s: \(built.stderr)")
        for step in ["Step 1/8 : FROM busybox:latest AS one", "Step 2/8 : RUN sleep 2 && echo one", "Step 3/8 : FROM busybox:latest AS two",
                     "Step 4/8 : RUN sleep 2 && echo two", "Step 6/8 : COPY --from=one", "Step 8/8 : CMD"] {
            #expect(built.stderr.contains(step), "\(step): \(built.stderr)")
        }
        // The reading stage starts only once both have ended.
        let last = built.stderr.range(of: "Step 5/8 : FROM busybox:latest")?.lowerBound
        let ends = built.stderr.ranges(of: "Removing intermediate container").map(\.lowerBound)
        #expect(last != nil && ends.count == 2 && ends.allSatisfy { $0 < (last ?? $0) }, "\(built.stderr)")
        let ran = try root.run(["both:1"])
        #expect(ran.stdout == "one\ntwo\n", "\(ran.stdout)\(ran.stderr)")
        // Cached, the same image again.
        let again = try root.build(["-t", "both:1", root.context])
        #expect(again.status == 0 && again.stderr.components(separatedBy: " ---> Using cache").count - 1 == 5, "\(again.stderr)")
        // On a terminal, the live view has a line for each of the two running steps in one frame.
        let live = try PTYSession.run(fixture: fixture, arguments: ["--root", root.store.path, "build", "--no-cache", "--network", "none",
                                                                    "--cgroup-parent", fixture.cgroupParent, root.context],
                                      steps: [], timeout: 120)
        #expect(live.status == 0, "\(live.output)")
        let frames = live.output.components(separatedBy: "\u{1b}[J")
        #expect(frames.contains { $0.contains(" => Step 2/8 : RUN sleep 2") && $0.contains(" => Step 4/8 : RUN sleep 2") },
                "both RUN steps at once: \(live.output)")
        let leftovers = try root.leftovers()
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    /// Two stages' RUN output at once, in plain output: every line is whole and says its stage
    /// and step (`[one 2/5] ...`), though each line is written in two pieces by its command.
    @Test("concurrent stages' RUN output: each line whole and labelled with its stage and step")
    func concurrentOutputLines() throws {
        let lines = 300
        func stage(_ name: String) -> String {
            "FROM busybox:latest AS \(name)\nRUN i=0; while [ $i -lt \(lines) ]; do i=$((i+1)); printf '\(name)-%s-' $i; printf 'end\\n'; done\n"
        }
        let dockerfile = stage("one") + stage("two") + "FROM busybox:latest\nCOPY --from=one /etc/passwd /one\nCOPY --from=two /etc/passwd /two\n"
        let root = try BuildRoot(fixture, files: ["Dockerfile": dockerfile])
        defer { root.destroy() }
        let built = try root.build(["--no-cache", root.context])
        try #require(built.status == 0, "\(built.stderr)")
        for (name, step) in [("one", 2), ("two", 4)] {
            let ours = built.stderr.split(separator: "\n").filter { $0.contains("\(name)-") && !$0.hasPrefix("Step ") }
            let pattern = try Regex("\\[\(name) \(step)/7\\] \(name)-[0-9]+-end")
            let whole = ours.filter { $0.wholeMatch(of: pattern) != nil }
            #expect(ours.count == lines && whole.count == lines, "\(name): \(ours.filter { !whole.contains($0) }.prefix(5))")
        }
        #expect(try root.leftovers().isEmpty)
    }

    /// A Ctrl-C while two stages' RUN steps run: both containers get it (one signalfd read it),
    /// the build exits 130 at once, tags nothing and leaves no container, mount, cgroup or
    /// temporary directory.
    @Test("SIGINT during two concurrent RUN steps stops both, exits 130, tags nothing, leaves nothing")
    func interruptedConcurrentStages() throws {
        let dockerfile = """
            FROM busybox:latest AS one
            RUN echo one-start; sleep 30; echo one-end
            FROM busybox:latest AS two
            RUN echo two-start; sleep 30; echo two-end
            FROM busybox:latest
            COPY --from=one /etc/passwd /one
            COPY --from=two /etc/passwd /two
            """
        let root = try BuildRoot(fixture, files: ["Dockerfile": dockerfile])
        defer { root.destroy() }
        let errors = root.context + "-stderr"
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errors) }
        let build = Process()
        build.executableURL = URL(fileURLWithPath: fixture.berth)
        build.arguments = ["--root", root.store.path, "build", "--network", "none", "--cgroup-parent", fixture.cgroupParent,
                           "--progress=plain", "-t", "never:1", root.context]
        build.standardOutput = FileHandle.nullDevice
        build.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        try build.run()
        defer { if build.isRunning { kill(build.processIdentifier, SIGKILL) } }
        func written() -> String { (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "" }
        let bothRun = eventually(within: 30, poll: 0.05) { written().contains("one-start\n") && written().contains("two-start\n") }
        try #require(bothRun, "both RUN steps never ran: \(written())")
        let interrupted = Date()
        kill(build.processIdentifier, SIGINT)
        let ended = eventually(within: 15, poll: 0.05) { !build.isRunning }
        try #require(ended, "the build still runs 15 s after SIGINT: \(written())")
        build.waitUntilExit()
        let elapsed = Date().timeIntervalSince(interrupted)
        let stderr = written()
        #expect(build.terminationStatus == 130, "\(stderr)")
        #expect(elapsed < 10, "both 30 s steps were stopped, in \(elapsed) s")
        #expect(stderr.contains("RUN was interrupted (SIGINT)"), "\(stderr)")
        #expect(!stderr.contains("] one-end") && !stderr.contains("] two-end") && !stderr.contains("Step 5/7"), "\(stderr)")
        #expect(try root.store.berth(["images", "-q", "never"]).output.isEmpty, "nothing tagged")
        let leftovers = try root.leftovers()
        #expect(leftovers.isEmpty, "\(leftovers)")
        let temporary = (try? FileManager.default.contentsOfDirectory(atPath: root.store.path + "/tmp")) ?? []
        #expect(temporary.isEmpty, "\(temporary)")
        let cgroups = stepCgroups()
        #expect(cgroups.isEmpty, "\(cgroups)")
    }

    /// One stage fails while the stage beside it has 30 s of RUN to go: the failure stops that
    /// step (killed) and the build fails at once with the failing stage's own error, not 30 s
    /// later; it tags nothing and leaves no container or cgroup.
    @Test("a failing stage stops the stage built beside it: its own error at once, nothing tagged, nothing left")
    func failingStageStopsTheOthers() throws {
        let dockerfile = """
            FROM busybox:latest AS slow
            RUN echo slow-start; sleep 30; echo slow-end
            FROM busybox:latest AS broken
            RUN sleep 2; exit 3
            FROM busybox:latest
            COPY --from=slow /etc/passwd /slow
            COPY --from=broken /etc/passwd /broken
            """
        let root = try BuildRoot(fixture, files: ["Dockerfile": dockerfile])
        defer { root.destroy() }
        let started = Date()
        let built = try root.build(["--no-cache", "-t", "never:1", root.context])
        let elapsed = Date().timeIntervalSince(started)
        #expect(built.status == 1, "\(built.stderr)")
        #expect(built.stderr.contains("] slow-start"), "the slow stage's RUN was running when the other failed: \(built.stderr)")
        #expect(elapsed < 15, "the build ended \(elapsed) s after it began, not at the failure: \(built.stderr)")
        #expect(built.stderr.contains("RUN sleep 2; exit 3") && built.stderr.contains("exit code 3"), "\(built.stderr)")
        #expect(!built.stderr.contains("] slow-end") && !built.stderr.contains("another stage failed"), "\(built.stderr)")
        #expect(try root.store.berth(["images", "-q", "never"]).output.isEmpty, "nothing tagged")
        let leftovers = try root.leftovers()
        #expect(leftovers.isEmpty, "\(leftovers)")
        let cgroups = stepCgroups()
        #expect(cgroups.isEmpty, "\(cgroups)")
    }

    /// The containers' cgroups left under the fixture's cgroup parent.
    func stepCgroups() -> [String] {
        let bases = Host.isCgroupV2 ? ["/sys/fs/cgroup"] : ["memory", "cpu", "pids", "freezer", "devices"].map { "/sys/fs/cgroup/" + $0 }
        return bases.flatMap { base in
            ((try? FileManager.default.contentsOfDirectory(atPath: base + "/" + fixture.cgroupParent)) ?? []).filter { $0.count == 64 }
        }
    }
}
