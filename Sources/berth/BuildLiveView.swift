import Build
import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `berth build`'s live view on a terminal (issue 16, `--progress=auto` on a tty): a line per
/// running step (several when stages are built at once) with its elapsed time, and the last
/// lines of their output, redrawn in place; a step that ends collapsed to one line; the whole
/// output of a step that fails. RUN steps write into a
/// pipe (`output`) that a thread of the view reads; the builder's own lines come through `line`.
final class BuildLiveView: Sendable {
    /// A step that runs: its `Step N/M : ...` line, and the thread of the stage it is in (the
    /// builder's lines for a step all come from that thread).
    private struct RunningStep {
        var thread: pthread_t
        var line: String
        var began: Int64
        var cached = false
    }

    private struct State {
        /// Several when stages are built at once, in the order they began.
        var running: [RunningStep] = []
        /// The running steps' output, since none ran: for a failure and the tail.
        var output: [UInt8] = []
        /// Lines of the live region on the screen now.
        var drawn = 0
        var ended = false
    }

    /// How many of the running step's last output lines the view shows.
    static let tailLines = 5

    private let state = Mutex(State())
    private let terminal: Int32
    private let readEnd: Int32
    /// What RUN steps write to.
    let output: Int32

    /// Draws on `terminal`; nil when the pipe cannot be made.
    init?(terminal: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        // berth is single-threaded until the view's thread starts: nothing can fork between the
        // pipe and these.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        self.terminal = terminal
        readEnd = fds[0]
        output = fds[1]
    }

    deinit {
        close(readEnd)
        close(output)
    }

    /// Runs the view's reader and clock until `finish`: the elapsed time and the output's tail
    /// are redrawn at most ten times a second.
    func start() -> WorkerThread? {
        WorkerThread.startOrRun { [self] in
            // Bounded by `finish`, which every build ends with (its caller's defer).
            while true {
                var pollfd = Glibc.pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                _ = poll(&pollfd, 1, 100)
                let ended = state.withLock { state in
                    drain(&state)
                    if !state.ended { redraw(&state) }
                    return state.ended
                }
                if ended { return }
            }
        }
    }

    /// One of the builder's lines: a step begins, was cached or ended (` ---> ID`), or something
    /// to keep on screen.
    func line(_ text: String) {
        let thread = pthread_self()
        state.withLock { state in
            drain(&state)
            let mine = state.running.firstIndex { pthread_equal($0.thread, thread) != 0 }
            if text.hasPrefix("Step ") {
                if let mine { collapse(&state, mine) }
                if state.running.isEmpty { state.output = [] }
                state.running.append(RunningStep(thread: thread, line: text, began: Self.milliseconds()))
            } else if text == " ---> Using cache" {
                if let mine { state.running[mine].cached = true }
            } else if text.hasPrefix(" ---> Running in ") || text.hasPrefix("Removing intermediate container ") {
                // The step's container: plain output's business.
            } else if text.hasPrefix(" ---> ") {
                if let mine { collapse(&state, mine) }
            } else {
                clear(&state)
                write(text + "\n")
            }
            redraw(&state)
        }
    }

    /// Ends the view: the steps still running collapsed, or, when the build failed, shown with
    /// the whole of their output (the failing step never reported its image).
    func finish(failed: Bool) {
        state.withLock { state in
            drain(&state)
            clear(&state)
            if failed, !state.running.isEmpty {
                for step in state.running { write(" \u{2718} \(step.line)\n") }
                var text = String(decoding: state.output, as: UTF8.self)
                if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
                write(text)
                state.running = []
            }
            while !state.running.isEmpty { collapse(&state, 0) }
            state.ended = true
        }
    }

    // MARK: drawing (the caller holds the state's lock)

    private func drain(_ state: inout State) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        // A full pipe is 64 KiB: a few rounds empty it; the bound keeps a chatty step from
        // starving the builder's lines.
        for _ in 0..<64 {
            let n = read(readEnd, &buffer, buffer.count)
            guard n > 0 else { return }
            state.output += buffer[0..<n]
        }
    }

    /// Running step `index` as one line of its own, above the live region.
    private func collapse(_ state: inout State, _ index: Int) {
        clear(&state)
        let step = state.running.remove(at: index)
        let seconds = Double(Self.milliseconds() - step.began) / 1000
        write(" \u{2714} \(fitted(step.line, reserve: 12)) " + (step.cached ? "(cached)" : "(\(Self.shown(seconds)))") + "\n")
    }

    private func clear(_ state: inout State) {
        guard state.drawn > 0 else { return }
        write("\u{1b}[\(state.drawn)A\r\u{1b}[J")
        state.drawn = 0
    }

    private func redraw(_ state: inout State) {
        clear(&state)
        guard !state.running.isEmpty else { return }
        let now = Self.milliseconds()
        var lines = state.running.map { " => \(fitted($0.line, reserve: 12)) \(Self.shown(Double(now - $0.began) / 1000))" }
        for line in Self.lastLines(state.output, Self.tailLines) { lines.append(fitted("    | " + line, reserve: 0)) }
        write(lines.joined(separator: "\n") + "\n")
        state.drawn = lines.count
    }

    /// The last `count` lines of a step's output, each as a terminal last showed it (what came
    /// after its last carriage return), without escape sequences and control characters: the
    /// view's own drawing must stay as it counts it.
    static func lastLines(_ output: [UInt8], _ count: Int) -> [String] {
        let lines = output.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).suffix(count)
        return lines.map { line in
            let shown = line.split(separator: UInt8(ascii: "\r"), omittingEmptySubsequences: true).last ?? []
            var kept: [UInt8] = []
            var inEscape = false
            for byte in shown {
                if inEscape {
                    // A CSI sequence (ESC [ parameters, then a final byte 0x40-0x7e) ends at its final byte.
                    if byte >= 0x40 && byte <= 0x7e && byte != UInt8(ascii: "[") { inEscape = false }
                } else if byte == 0x1b {
                    inEscape = true
                } else if byte >= 0x20 && byte != 0x7f || byte == 0x09 {
                    kept.append(byte)
                }
            }
            return String(decoding: kept, as: UTF8.self)
        }
    }

    /// `text` cut to the terminal's width less `reserve` columns: a wrapped line would throw the
    /// region's line count off.
    private func fitted(_ text: String, reserve: Int) -> String {
        var size = winsize()
        let columns = ioctl(terminal, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        let room = max(columns - 1 - reserve, 10)
        return text.count <= room ? text : String(text.prefix(room - 1)) + "\u{2026}"
    }

    private func write(_ text: String) { Output.write(terminal, text) }

    static func shown(_ seconds: Double) -> String {
        let tenths = Int(seconds * 10)
        return "\(tenths / 10).\(tenths % 10)s"
    }

    static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

/// Where a build's progress goes: the live view, Docker's classic lines on stderr, or, quiet,
/// nowhere; `run` ends the view however the build ends.
struct BuildOutput: ~Copyable {
    private let live: BuildLiveView?
    private let devNull: Int32
    let progress: BuildProgress

    /// `live` asks for the view; it gives way to plain lines when its pipe cannot be made.
    init(quiet: Bool, live wantsLive: Bool) {
        let devNull = quiet ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1
        let live = !quiet && wantsLive ? BuildLiveView(terminal: STDERR_FILENO) : nil
        self.devNull = devNull
        self.live = live
        progress = live.map { view in BuildProgress(output: view.output) { view.line($0) } }
            ?? BuildProgress(output: quiet ? devNull : STDERR_FILENO) { line in
                if !quiet { Output.writeLine(STDERR_FILENO, line) }
            }
    }

    deinit { if devNull >= 0 { close(devNull) } }

    func run<T>(_ body: (BuildProgress) throws -> T) throws -> T {
        let viewThread = live?.start()
        let result: T
        do {
            result = try body(progress)
        } catch {
            live?.finish(failed: true)
            viewThread?.join()
            throw error
        }
        live?.finish(failed: false)
        viewThread?.join()
        return result
    }
}
