import Foundation
import Testing

extension Containers.Compose {
    /// `build: .` (issue 15) through issue 16's builder: `up` builds a missing image, keeps
    /// using a built one, `up --build` picks up a changed context and replaces the instances,
    /// `compose build` builds from the cache, `--no-build` never builds.
    @Test("build: . — up builds what is missing, up --build rebuilds a changed context, compose build, --no-build")
    func buildSections() throws {
        let host = try StandInHost(fixture)
        defer { host.remove() }
        let project = try ProjectFile("""
            services:
              app:
                build: { context: ., network: none }
                command: ["sh", "-c", "exec sleep 300"]
                stop_grace_period: 1s
                cgroup_parent: \(fixture.cgroupParent)
            """)
        try "FROM \(StandInHost.image)\nCOPY version /version\nRUN cp /version /built\n"
            .write(toFile: project.directory + "/Dockerfile", atomically: true, encoding: .utf8)
        try "one".write(toFile: project.directory + "/version", atomically: true, encoding: .utf8)
        func compose(_ args: [String]) throws -> Command.Result {
            try host.berth(["compose", "-f", project.file, "-p", "bld"] + args, timeout: 120)
        }
        defer { _ = try? compose(["down"]) }

        let up = try compose(["up", "-d"])
        #expect(up.status == 0, "\(up.stderr)")
        let order = ["Building app", "Step 1/3 : FROM \(StandInHost.image)", "Step 3/3 : RUN cp /version /built",
                     "Successfully tagged bld-app", "Container bld-app-1 Created and started"]
        let positions = order.map { up.stderr.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil } && positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(),
                "the build's lines, then compose's: \(up.stderr)")
        #expect(try host.berth(["exec", "bld-app-1", "cat", "/built"]).output == "one")

        // The image is there: no build, the instance kept.
        let again = try compose(["up", "-d"])
        #expect(again.status == 0 && !again.stderr.contains("Building") && again.stderr.contains("Container bld-app-1 Running"),
                "\(again.stderr)")

        // A changed context is not looked at without --build; with it, the new image replaces the instance.
        try "two".write(toFile: project.directory + "/version", atomically: true, encoding: .utf8)
        let unchanged = try compose(["up", "-d"])
        #expect(unchanged.status == 0 && !unchanged.stderr.contains("Building"), "\(unchanged.stderr)")
        let rebuilt = try compose(["up", "-d", "--build"])
        #expect(rebuilt.status == 0 && rebuilt.stderr.contains("Building app")
                && rebuilt.stderr.contains("Container bld-app-1 Recreated"), "\(rebuilt.stderr)")
        #expect(try host.berth(["exec", "bld-app-1", "cat", "/built"]).output == "two")

        // compose build with nothing changed: every step from the cache, the same image, so up keeps the instance.
        let build = try compose(["build"])
        #expect(build.status == 0, "\(build.stderr)")
        #expect(build.stderr.components(separatedBy: " ---> Using cache").count - 1 == 2, "COPY and RUN cached: \(build.stderr)")
        #expect(try compose(["up", "-d"]).stderr.contains("Container bld-app-1 Running"))
        let quiet = try compose(["build", "-q", "app"])
        #expect(quiet.status == 0 && quiet.stdout.isEmpty && quiet.stderr.isEmpty, "\(quiet.stdout)\(quiet.stderr)")
        let unknown = try compose(["build", "nobody"])
        #expect(unknown.status != 0 && unknown.stderr.contains("no such service: nobody"), "\(unknown.stderr)")

        // --no-build never builds: a missing image is up's error, which says how to build it.
        #expect(try compose(["down"]).status == 0)
        #expect(try host.berth(["rmi", "bld-app"]).status == 0)
        let noBuild = try compose(["up", "-d", "--no-build"])
        #expect(noBuild.status != 0 && noBuild.stderr.contains("service app") && noBuild.stderr.contains("compose build app"),
                "\(noBuild.stderr)")
        #expect(try host.berth(["ps", "-aq"]).output.isEmpty, "nothing made")
    }
}
