import Testing

extension Containers {
    /// berth's exit code is the container's; failures before exec use Docker's codes and one
    /// readable sentence.
    @Suite("Exit codes and errors")
    struct ExitCodes {
        let fixture = Fixture.shared

        @Test("exit codes pass through", arguments: [0, 1, 3, 42, 255])
        func passThrough(code: Int) throws {
            let r = try fixture.run([], ["/bin/payload", "exit", String(code)])
            #expect(r.status == Int32(code))
        }

        @Test("killed by a signal: 128 + the signal")
        func signaled() throws {
            // pid 1 ignores signals it has no handler for, so kill from a child of it.
            let r = try fixture.run(["--init"], ["/bin/sh", "-c", "kill -KILL $$"])
            #expect(r.status == 137)
            let term = try fixture.run(["--init"], ["/bin/sh", "-c", "kill -TERM $$"])
            #expect(term.status == 143)
        }

        @Test("a missing command: 127 and where it was looked for")
        func notFound() throws {
            let r = try fixture.run([], ["/bin/nope"])
            #expect(r.status == 127)
            #expect(r.stderr == "berth: exec /bin/nope: no such file or directory in the container's root\n")
            let bare = try fixture.run([], ["nope"])
            #expect(bare.status == 127)
        }

        @Test("a file that is not executable: 126")
        func notExecutable() throws {
            let r = try fixture.run([], ["/etc/passwd"])
            #expect(r.status == 126)
            #expect(r.stderr.hasPrefix("berth: exec /etc/passwd: permission denied"))
        }

        @Test("bad flags and a missing root: 125 with one line")
        func badInput() throws {
            let state = try fixture.makeStateRoot()
            let missing = try Command.run(fixture.berth, ["--root", state, "run", "--rootfs", "/nonexistent", "--", "/bin/true"])
            #expect(missing.status == 125)
            #expect(missing.stderr.hasPrefix("berth: root filesystem /nonexistent is not a directory"))
            #expect(missing.stderr.split(separator: "\n").count == 1)
            let memory = try fixture.run(["--memory", "lots"], ["/bin/true"])
            #expect(memory.status == 125)
            #expect(memory.stderr.contains("invalid size \"lots\""))
            let cap = try fixture.run(["--cap-add", "CAP_FLY"], ["/bin/true"])
            #expect(cap.status == 125)
            #expect(cap.stderr.contains("FLY"))
            let workdir = try fixture.run(["-w", "relative"], ["/bin/true"])
            #expect(workdir.status == 125)
        }
    }
}
