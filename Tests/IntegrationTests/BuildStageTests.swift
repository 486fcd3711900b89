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
}
