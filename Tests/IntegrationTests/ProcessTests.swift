import Foundation
import Testing

extension Containers {
    /// Signals, the built-in init, stdin and the terminal.
    @Suite("Process behaviour")
    struct ProcessBehaviour {
        let fixture = Fixture.shared

        @Test("signals sent to berth reach the container", arguments: [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2])
        func forwarding(signal: Int32) throws {
            let state = try fixture.makeStateRoot()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: fixture.berth)
            process.arguments = ["--root", state, "run", "--network", "none", "--cgroup-parent", fixture.cgroupParent,
                                 "--rootfs", fixture.rootfs, "--", "/bin/payload", "trap"]
            let out = Pipe()
            process.standardOutput = out
            process.standardInput = FileHandle.nullDevice
            try process.run()
            // Wait for "ready" so the handler is installed.
            let ready = out.fileHandleForReading.availableData
            #expect(String(decoding: ready, as: UTF8.self).hasPrefix("ready"))
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            let rest = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(rest.contains("got \(signal)"))
            #expect(process.terminationStatus == signal)
        }

        @Test("--init: the command is pid 2 under an init that reaps orphans")
        func initReaps() throws {
            let pid = try fixture.run(["--init"], ["/bin/payload", "pid"])
            #expect(pid.output == "2")
            let reaped = try fixture.run(["--init"], ["/bin/payload", "orphans", "5"])
            #expect(reaped.output == "zombies 0")
            // Without an init, pid 1 (the payload) never waits: the orphans stay zombies.
            let unreaped = try fixture.run([], ["/bin/payload", "orphans", "5"])
            #expect(unreaped.output == "zombies 5")
        }

        @Test("-i passes stdin through a pipe; without -i stdin is empty")
        func stdin() throws {
            let r = try fixture.run(["-i"], ["/bin/cat"], stdin: "hello\nworld\n")
            #expect(r.output == "hello\nworld")
            let none = try fixture.run([], ["/bin/sh", "-c", "cat; echo end"], stdin: "ignored\n")
            #expect(none.output == "end")
        }

        @Test("without -t stdio is not a terminal")
        func noTerminal() throws {
            let r = try fixture.run([], ["/bin/payload", "isatty"])
            #expect(r.output == "0 0 0")
        }

        @Test("-t: the container's stdio is a pty and its controlling terminal, also /dev/console")
        func terminal() throws {
            let r = try PTYSession.run(fixture: fixture, options: ["-t"],
                                       command: ["/bin/sh", "-c", "/bin/payload isatty; /bin/payload ctty; [ -c /dev/console ] && echo console"])
            #expect(r.status == 0)
            #expect(r.output.contains("1 1 1"))
            #expect(r.output.contains("tty=yes fg=1"))
            #expect(r.output.contains("console"))
        }

        @Test("-t: the container's terminal has the user's size and follows a resize (SIGWINCH)")
        func windowSize() throws {
            let script = "trap 'stty size; exit 0' WINCH; stty size; echo ready; while :; do sleep 0.05; done"
            let r = try PTYSession.run(fixture: fixture, options: ["-t"], command: ["/bin/sh", "-c", script],
                                       steps: [.waitFor("ready"), .resize(rows: 40, columns: 120)],
                                       size: (30, 100), timeout: 30)
            #expect(r.status == 0)
            // In this order: the size is right from the start, and no SIGWINCH comes before the
            // user resizes (setting the size after the container started would send one).
            let lines = r.output.split(whereSeparator: \.isNewline).map(String.init)
            #expect(lines == ["30 100", "ready", "40 120"])
        }

        @Test("-it: an interactive shell reads what the user types and exits with its code")
        func interactiveShell() throws {
            let r = try PTYSession.run(fixture: fixture, options: ["-i", "-t"], command: ["/bin/sh"],
                                       typing: ["echo typed-$((6*7))\r", "exit 7\r"])
            #expect(r.output.contains("typed-42"))
            #expect(r.status == 7)
        }
    }
}
