import Foundation
import Testing

extension Containers.Build {
    /// `berth build`'s default on a terminal (issue 16): the running step redrawn in place with
    /// its output's last lines, each ended step collapsed to one line, a failing step's whole
    /// output; plain lines with `--progress=plain` or without a terminal.
    @Test("the live view on a terminal: steps collapsed, a failing step's output whole; plain elsewhere")
    func liveView() throws {
        let dockerfile = """
            FROM busybox:latest
            RUN for i in 1 2 3 4 5 6 7 8; do echo line-$i; done; sleep 0.5
            RUN echo the-end > /end
            """
        let root = try BuildRoot(fixture, files: ["Dockerfile": dockerfile])
        defer { root.destroy() }
        func onTerminal(_ args: [String]) throws -> PTYSession.Result {
            try PTYSession.run(fixture: fixture, arguments: ["--root", root.store.path, "build", "--network", "none",
                                                               "--cgroup-parent", fixture.cgroupParent] + args + [root.context],
                               steps: [], timeout: 120)
        }
        let live = try onTerminal(["-t", "live:1"])
        #expect(live.status == 0, "\(live.output)")
        #expect(live.output.contains("\u{1b}[") && live.output.contains("\u{1b}[J"), "redrawn in place: \(live.output)")
        #expect(live.output.contains("    | line-8"), "the output's last lines under the step: \(live.output)")
        let collapsed = live.output.components(separatedBy: "\r\n").filter { $0.contains(" \u{2714} Step ") }
        #expect(collapsed.count == 3, "one line per ended step: \(collapsed)")
        #expect(collapsed.contains { $0.contains("Step 2/3 : RUN for i") && $0.hasSuffix("s)") }, "\(collapsed)")
        #expect(live.output.contains("Successfully tagged live:1"))
        #expect(!live.output.contains("Removing intermediate container"), "\(live.output)")

        let cached = try onTerminal(["-t", "live:1"])
        #expect(cached.status == 0)
        #expect(cached.output.components(separatedBy: "\r\n").filter { $0.contains("(cached)") }.count == 2, "\(cached.output)")

        // A failing step: its whole output, not only the tail, then the error.
        try root.write(["Dockerfile": "FROM busybox:latest\nRUN for i in 1 2 3 4 5 6 7 8; do echo doomed-$i; done; exit 3\n"])
        let failed = try onTerminal([])
        #expect(failed.status == 1, "\(failed.output)")
        let shown = failed.output.components(separatedBy: "\u{2718} Step 2/2 : RUN for i").last ?? ""
        #expect((1...8).allSatisfy { shown.contains("doomed-\($0)\r\n") }, "every line after the failed step: \(failed.output)")
        #expect(shown.contains("berth: "), "then the error: \(shown)")

        // --progress=plain on a terminal, and the default without one: Docker's classic lines, no escapes.
        let plain = try onTerminal(["--progress=plain"])
        #expect(!plain.output.contains("\u{1b}[") && plain.output.contains("doomed-8"), "\(plain.output)")
        let piped = try root.store.berth(["build", "--network", "none", "--cgroup-parent", fixture.cgroupParent, root.context],
                                         timeout: 120)
        #expect(!piped.stderr.contains("\u{1b}[") && piped.stderr.contains("Step 2/2 : RUN"), "\(piped.stderr)")
        let leftovers = try root.leftovers()
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
