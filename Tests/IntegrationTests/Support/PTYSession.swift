import Foundation

/// Runs berth (or podman) with a pseudo-terminal the test owns as its stdin/stdout/stderr, the way a user's
/// terminal would be, and types into it.
enum PTYSession {
    struct Result {
        let status: Int32
        let output: String
    }

    /// What the "user" does at the terminal, in order.
    enum Step {
        /// Wait until the output (since the previous step) contains the text.
        case waitFor(String)
        /// Type the text.
        case type(String)
        /// Resize the terminal and send berth the SIGWINCH a real terminal would.
        case resize(rows: UInt16, columns: UInt16)
    }

    /// Types each line once the shell shows a new prompt, as a person would. (busybox sh follows
    /// its prompt with a cursor-position query, so look for the prompt, not the end.)
    static func run(fixture: Fixture, options: [String], command: [String], typing: [String] = [],
                    timeout: Double = 60) throws -> Result {
        try run(fixture: fixture, options: options, command: command,
                steps: typing.flatMap { [Step.waitFor("# "), .type($0)] }, timeout: timeout)
    }

    static func run(fixture: Fixture, options: [String], command: [String], steps: [Step],
                    size: (rows: UInt16, columns: UInt16) = (24, 80), timeout: Double = 60) throws -> Result {
        let state = try fixture.makeStateRoot()
        return try run(fixture: fixture,
                       arguments: ["--root", state, "run", "--cgroup-parent", fixture.cgroupParent,
                                   "--rootfs", fixture.rootfs] + Fixture.networkDefault(options) + ["--"] + command,
                       steps: steps, size: size, timeout: timeout)
    }

    /// Runs `berth ARGUMENTS...` as given (any subcommand, e.g. `exec -it`) on the terminal.
    static func run(fixture: Fixture, arguments: [String], steps: [Step],
                    size: (rows: UInt16, columns: UInt16) = (24, 80), timeout: Double = 60) throws -> Result {
        try session(steps: steps, size: size, timeout: timeout) { slave in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: fixture.berth)
            process.arguments = arguments
            let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
            process.standardInput = handle
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            return Child(pid: process.processIdentifier, isRunning: { process.isRunning }) {
                process.waitUntilExit()
                return process.terminationStatus
            }
        }
    }

    /// Runs `executable ARGUMENTS...` on the terminal, started with posix_spawn and reaped with
    /// waitpid (`Spawned`): podman's conmon outlives podman and keeps what it inherits, so the
    /// channel through which `Process` learns of an exit would not end with podman.
    static func run(executable: String, arguments: [String], steps: [Step],
                    size: (rows: UInt16, columns: UInt16) = (24, 80), timeout: Double = 60) throws -> Result {
        try session(steps: steps, size: size, timeout: timeout) { slave in
            let spawned = try Spawned(executable, arguments, stdinFD: slave, stdoutFD: slave, stderrFD: slave)
            let exit = ExitStatus()
            return Child(pid: spawned.pid, isRunning: { exit.poll(spawned.pid) == nil }) {
                exit.poll(spawned.pid) ?? spawned.wait(seconds: 30) ?? -1
            }
        }
    }

    /// The process on the terminal, as the session drives it.
    private struct Child {
        let pid: pid_t
        let isRunning: () -> Bool
        /// Waits for the end; the exit status.
        let finish: () -> Int32
    }

    /// A spawned process's exit status, once waitpid has reaped it (it can be reaped only once).
    private final class ExitStatus {
        private var status: Int32?
        func poll(_ pid: pid_t) -> Int32? {
            if status == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid {
                    let signal = raw & 0x7f
                    status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
                }
            }
            return status
        }
    }

    private static func session(steps: [Step], size: (rows: UInt16, columns: UInt16), timeout: Double,
                                start: (Int32) throws -> Child) throws -> Result {
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw FixtureError(message: "cannot open /dev/ptmx") }
        defer { close(master) }
        var unlock: Int32 = 0
        var number: UInt32 = 0
        // TIOCSPTLCK = 0x40045431, TIOCGPTN = 0x80045430
        guard ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw FixtureError(message: "cannot unlock the pty")
        }
        let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else { throw FixtureError(message: "cannot open /dev/pts/\(number)") }
        var window = winsize(ws_row: size.rows, ws_col: size.columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &window)

        let child: Child
        do {
            child = try start(slave)
            close(slave)
        } catch {
            close(slave)
            throw error
        }

        let collected = Collected()
        let drained = DispatchSemaphore(value: 0)
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(master, &buffer, buffer.count)
                if n <= 0 { break }
                collected.append(buffer[0..<n])
            }
            drained.signal()
        }
        reader.start()

        let deadline = Date().addingTimeInterval(timeout)
        var seen = 0
        for step in steps {
            switch step {
            case .waitFor(let text):
                while Date() < deadline && child.isRunning() && !collected.text(from: seen).contains(text) {
                    usleep(20_000)
                }
                seen = collected.count
            case .type(let text):
                _ = text.withCString { write(master, $0, strlen($0)) }
            case .resize(let rows, let columns):
                var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
                _ = ioctl(master, UInt(TIOCSWINSZ), &size)
                kill(child.pid, SIGWINCH)
            }
        }
        while child.isRunning() && Date() < deadline { usleep(10_000) }
        if child.isRunning() { kill(child.pid, SIGKILL) }
        let status = child.finish()
        // The reader ends at EIO, once the last holder of the terminal is gone; until then the
        // output may still be on its way (and `master` must stay open).
        _ = drained.wait(timeout: .now() + 10)
        return Result(status: status, output: collected.text(from: 0))
    }

    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var bytes: [UInt8] = []
        func append(_ more: ArraySlice<UInt8>) { lock.withLock { bytes += more } }
        var count: Int { lock.withLock { bytes.count } }
        func text(from: Int) -> String { lock.withLock { String(decoding: bytes[from...], as: UTF8.self) } }
    }
}
