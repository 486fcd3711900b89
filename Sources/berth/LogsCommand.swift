import CommandLineParsing
import Containers
#if canImport(Glibc)
import Glibc
#endif

/// `berth logs`: what a detached container wrote, from the json-file log its monitor keeps.
struct ContainerLogs: BerthCommand {
    static let spec = CommandSpec(
        name: "logs", abstract: "Show the output of a container.", usage: "[OPTIONS] CONTAINER",
        options: [
            .flag("follow", short: "f", help: "Keep printing new output until the container stops."),
            .value("tail", valueName: "lines", help: "Only the last N lines, or all (the default)."),
            .flag("timestamps", short: "t", help: "Prefix each line with the time it was written."),
            .value("since", valueName: "time",
                   help: "Only what was written since: a duration back from now (10m, 1h30m) or a time (RFC 3339, Unix)."),
            .value("until", valueName: "time", help: "Only what was written before: a duration back from now or a time."),
        ])

    let global: GlobalOptions
    let follow: Bool
    let tail: Int?
    let timestamps: Bool
    let range: LogTimeRange
    let name: String

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        follow = parsed.flag("follow")
        timestamps = parsed.flag("timestamps")
        do throws(ContainerError) {
            range = try LogTimeRange(since: parsed.string("since"), until: parsed.string("until"))
        } catch {
            throw UsageError(error.message)
        }
        switch parsed.string("tail") {
        case nil, "all":
            tail = nil
        case let text?:
            guard let count = Int(text), count >= 0 else {
                throw UsageError("--tail: \"\(text)\" is not a number of lines (or all)")
            }
            tail = count
        }
        guard parsed.positionals.count == 1, let name = parsed.positionals.first else {
            throw UsageError("logs needs exactly one container name or id")
        }
        self.name = name
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        let record = try engine.find(name)
        var output = LogOutput(timestamps: timestamps)
        if follow {
            // Asked after each look at the log: the output so far goes out.
            try engine.followLog(of: record, from: tail.map(ContainerLog.Start.last) ?? .beginning, stop: {
                output.flush()
                // `berth logs -f web | grep -m1 ready` ends when grep does.
                return output.readerGone || range.isOver()
            }, linesLost: {
                output.flush()
                Output.error("logs -f: the log rotated past files before they could be read; lines from them may be missing")
            }, emit: { if range.contains($0.time) { output.add($0) } })
        } else {
            try ContainerLog(path: engine.store.logPath(of: record.id)).read(tail: tail) { if range.contains($0.time) { output.add($0) } }
        }
        output.flush()
        return 0
    }
}

/// The entries on their way to fd 1 (stdout entries) and fd 2 (stderr entries), buffered, with
/// the buffer written out whenever the stream changes so that the two keep their order on a
/// terminal that shows both.
struct LogOutput {
    let timestamps: Bool
    private var fd: Int32 = STDOUT_FILENO
    private var buffer: [UInt8] = []
    /// Whether a write failed (EPIPE: the reader closed the pipe): nothing more goes out.
    private(set) var readerGone = false

    init(timestamps: Bool) {
        self.timestamps = timestamps
        buffer.reserveCapacity(64 * 1024)
    }

    mutating func add(_ entry: ContainerLog.Entry) {
        let target = entry.stream == .stderr ? STDERR_FILENO : STDOUT_FILENO
        if target != fd {
            flush()
            fd = target
        }
        if timestamps {
            buffer += entry.time.utf8
            buffer.append(UInt8(ascii: " "))
        }
        buffer += entry.log
        if buffer.count >= 64 * 1024 { flush() }
    }

    /// Writes the buffer out. A closed reader (`berth logs | head`) just ends the output.
    mutating func flush() {
        var offset = 0
        while offset < buffer.count, !readerGone {
            let n = buffer.withUnsafeBytes { raw in write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                readerGone = true
                break
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
