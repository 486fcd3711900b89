import Foundation
import Testing

/// Docker's management commands (issue 14): `container ls`, `image ls`, `system info` answer as
/// `ps`, `images`, `info`; `berth completion bash` completes the names of the state root's
/// containers.
extension Containers {
    @Suite("ManagementCommands")
    struct ManagementCommands {
        let fixture = Fixture.shared

        /// The outputs of `alias` and `shortForm`, asked for one after the other until they are
        /// taken within one second (a status's "2 seconds ago" moves), at most three times.
        func outputs(_ root: LifecycleRoot, _ alias: [String], _ shortForm: [String]) throws -> (String, String) {
            var last = ("", "")
            for _ in 0..<3 {
                let a = try root.berth(alias), b = try root.berth(shortForm)
                guard a.status == 0, b.status == 0 else {
                    throw FixtureError(message: "\(alias): \(a.status) \(a.stderr); \(shortForm): \(b.status) \(b.stderr)")
                }
                last = (a.stdout, b.stdout)
                if last.0 == last.1 { break }
            }
            return last
        }

        @Test("container ls, image ls, system info and the other aliases answer as the short forms")
        func aliasesAnswerAsShortForms() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "noun-live"], ["sleep", "1000"])
            _ = try root.runDetached(["--name", "noun-done"], ["true"])
            #expect(try root.waitForExit("noun-done") == "0")
            for (alias, shortForm) in [
                (["container", "ls"], ["ps"]),
                (["container", "ls", "-a", "--no-trunc"], ["ps", "-a", "--no-trunc"]),
                (["container", "ps", "-a"], ["ps", "-a"]),
                (["image", "ls"], ["images"]),
                (["system", "info"], ["info"]),
                (["system", "info", "--format", "json"], ["info", "--format", "json"]),
                (["container", "inspect", "noun-live"], ["inspect", "noun-live"]),
                (["image", "history", LifecycleRoot.image], ["history", LifecycleRoot.image]),
            ] {
                let (a, b) = try outputs(root, alias, shortForm)
                #expect(a == b, "berth \(alias.joined(separator: " ")) differs from berth \(shortForm.joined(separator: " "))")
                #expect(!a.isEmpty)
            }
            #expect(try root.berth(["container", "ls", "--format", "{{.Names}}"]).output == "noun-live")
            // An alias acts, not only lists: `container stop`, then `container rm`.
            #expect(try root.berth(["container", "stop", "-t", "1", "noun-live"]).status == 0)
            #expect(try root.berth(["container", "rm", "noun-live", "noun-done"]).status == 0)
            #expect(try root.berth(["ps", "-a", "-q"]).output.isEmpty)
        }

        @Test("berth completion bash completes the state root's container names")
        func completionListsContainers() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "noun-complete"], ["true"])
            #expect(try root.waitForExit("noun-complete") == "0")
            let script = root.path + "/berth.bash"
            let generated = try root.berth(["completion", "bash"])
            #expect(generated.status == 0)
            try generated.stdout.write(toFile: script, atomically: false, encoding: .utf8)
            let line = "source '\(script)' && COMP_WORDS=('\(fixture.berth)' --root '\(root.path)' container rm noun-)"
                + " && COMP_CWORD=5 && _berth && echo \"${COMPREPLY[*]}\""
            let r = try Command.run("/bin/bash", ["-c", line])
            #expect(r.status == 0 && r.output == "noun-complete", "\(r.stdout) \(r.stderr)")
        }
    }
}
