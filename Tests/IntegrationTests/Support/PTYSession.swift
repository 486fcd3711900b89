import Foundation

/// Runs berth with a pseudo-terminal the test owns as its stdin/stdout/stderr, the way a user's
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

        let process = Process()
        process.executableURL = URL(fileURLWithPath: fixture.berth)
        process.arguments = arguments
        let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        process.standardInput = handle
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try handle.close()

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
                while Date() < deadline && process.isRunning && !collected.text(from: seen).contains(text) {
                    usleep(20_000)
                }
                seen = collected.count
            case .type(let text):
                _ = text.withCString { write(master, $0, strlen($0)) }
            case .resize(let rows, let columns):
                var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
                _ = ioctl(master, UInt(TIOCSWINSZ), &size)
                kill(process.processIdentifier, SIGWINCH)
            }
        }
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        // The reader ends at EIO, once the last holder of the terminal is gone; until then the
        // output may still be on its way (and `master` must stay open).
        _ = drained.wait(timeout: .now() + 10)
        return Result(status: process.terminationStatus, output: collected.text(from: 0))
    }

    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var bytes: [UInt8] = []
        func append(_ more: ArraySlice<UInt8>) { lock.withLock { bytes += more } }
        var count: Int { lock.withLock { bytes.count } }
        func text(from: Int) -> String { lock.withLock { String(decoding: bytes[from...], as: UTF8.self) } }
    }
}
