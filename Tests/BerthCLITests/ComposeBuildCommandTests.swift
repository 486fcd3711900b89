@testable import berth
import CommandLineParsing
import Testing

/// The command lines of compose's builds (`compose build`, `up --build/--no-build`, `deploy
/// --build`) and `build --progress`, and what the live view shows of a step's output.
@Suite("build command lines") struct ComposeBuildCommandTests {
    @Test func composeBuildUpAndDeployFlags() throws {
        guard case .command(let build) = try Berth.parse(["compose", "build", "--no-cache", "--build-arg", "A=1", "-q", "web"]),
              let build = build as? ComposeBuild else {
            Issue.record("not compose build")
            return
        }
        #expect(build.services == ["web"] && build.quiet && build.options.noCache && build.options.buildArgs == ["A": "1"])
        guard case .command(let up) = try Berth.parse(["compose", "up", "--build"]), case .always = (up as? ComposeUp)?.buildPolicy
        else { Issue.record("up --build"); return }
        guard case .command(let noBuild) = try Berth.parse(["compose", "up", "--no-build"]),
              case .never = (noBuild as? ComposeUp)?.buildPolicy else { Issue.record("up --no-build"); return }
        guard case .command(let plain) = try Berth.parse(["compose", "up"]), case .whenMissing = (plain as? ComposeUp)?.buildPolicy
        else { Issue.record("up"); return }
        guard case .command(let deploy) = try Berth.parse(["compose", "deploy", "web", "--build"]) else { Issue.record("deploy"); return }
        #expect((deploy as? ComposeDeploy)?.build == true)
    }

    @Test func badBuildCommandLines() {
        #expect(throws: UsageError.self) { try Berth.parse(["compose", "up", "--build", "--no-build"]) }
        #expect(throws: UsageError.self) { try Berth.parse(["compose", "deploy", "web", "--build", "--image", "x"]) }
        #expect(throws: UsageError.self) { try Berth.parse(["compose", "build", "--build-arg", "=x"]) }
        #expect(throws: UsageError.self) { try Berth.parse(["build", "--progress=rainbow", "."]) }
    }

    @Test func progressModes() throws {
        guard case .command(let quiet) = try Berth.parse(["build", "--progress=quiet", "."]) else { Issue.record("quiet"); return }
        #expect((quiet as? BuildImage)?.quiet == true)
        guard case .command(let auto) = try Berth.parse(["build", "."]) else { Issue.record("auto"); return }
        #expect((auto as? BuildImage)?.progressMode == "auto" && (auto as? BuildImage)?.quiet == false)
    }

    @Test func theLiveViewShowsALinesLastStateWithoutControlCharacters() {
        let output = Array("one\ntwo\n\n10%\r50%\r100%\n\u{1b}[31mred\u{1b}[0m\tend\nthree".utf8)
        #expect(BuildLiveView.lastLines(output, 3) == ["100%", "red\tend", "three"])
        #expect(BuildLiveView.lastLines(output, 10).first == "one")
        #expect(BuildLiveView.lastLines([], 5).isEmpty)
        #expect(BuildLiveView.shown(1.26) == "1.2s" && BuildLiveView.shown(0) == "0.0s")
    }
}
