import CommandLineParsing
import Containers
import JSON
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `berth stats`: what running containers use, from their cgroups and network namespaces.
struct StatsCommand: BerthCommand {
    static let spec = CommandSpec(
        name: "stats", abstract: "Show the CPU, memory, network, block I/O and process use of containers.",
        discussion: """
            Without containers named, every running container is shown. On a terminal the table \
            is refreshed every second until Ctrl-C; --no-stream prints it once (CPU % from two \
            readings half a second apart).
            """,
        usage: "[OPTIONS] [CONTAINER...]",
        options: [
            .flag("no-stream", help: "Print the figures once and exit."),
            .value("format", valueName: "format", help: "table or json (one object per line)."),
            .flag("no-trunc", help: "Do not truncate ids."),
        ])

    static let titles = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]
    /// How long a stream runs at most: a day of one-second refreshes.
    static let maximumRefreshes = 86_400

    let global: GlobalOptions
    let containers: [String]
    let noStream: Bool
    let json: Bool
    let noTrunc: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        containers = parsed.positionals
        noStream = parsed.flag("no-stream")
        noTrunc = parsed.flag("no-trunc")
        switch parsed.string("format") ?? "table" {
        case "table": json = false
        case "json", "{{json .}}": json = true
        case let other: throw UsageError("unknown --format \"\(other)\": use table or json")
        }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        // Names are resolved once: an unknown one fails before anything is printed.
        let named = try containers.map { try engine.find($0) }
        var previous = try readings(engine, named)
        pause(milliseconds: 500)
        let streaming = !noStream
        let onTerminal = isatty(STDOUT_FILENO) == 1
        for refresh in 0..<Self.maximumRefreshes {
            let current = try readings(engine, named)
            // On a terminal each refresh clears the screen and starts at its top, as Docker's.
            let text = render(current, since: previous)
            if !(json && text.isEmpty) { Output.print((streaming && onTerminal ? "\u{1B}[2J\u{1B}[H" : "") + text) }
            if !streaming || (refresh > 0 && !named.isEmpty && current.isEmpty) { break }
            previous = current
            pause(milliseconds: 1000)
        }
        return 0
    }

    /// The named containers (those still there), or every running one.
    private func readings(_ engine: ContainerEngine, _ named: [ContainerRecord]) throws -> [(ContainerRecord, ContainerUsage)] {
        let records = named.isEmpty
            ? engine.list().filter { engine.state(of: $0).status == .running }
            : named.compactMap { try? engine.store.load(id: $0.id) }
        return try records.map { ($0, try engine.usage(of: $0)) }
    }

    private func render(_ current: [(ContainerRecord, ContainerUsage)], since previous: [(ContainerRecord, ContainerUsage)]) -> String {
        var table = Table(Self.titles)
        var lines: [String] = []
        for (record, usage) in current {
            let earlier = previous.first { $0.0.id == record.id }?.1 ?? usage
            let row = Self.row(record, usage, since: earlier, noTrunc: noTrunc)
            if json {
                let object = JSONValue.object([
                    ("BlockIO", .string(row[6])), ("CPUPerc", .string(row[2])), ("Container", .string(row[0])),
                    ("ID", .string(record.id)), ("MemPerc", .string(row[4])), ("MemUsage", .string(row[3])),
                    ("Name", .string(row[1])), ("NetIO", .string(row[5])), ("PIDs", .string(row[7])),
                ])
                lines.append(String(decoding: JSON.serialize(object), as: UTF8.self))
            } else {
                table.add(row)
            }
        }
        return json ? lines.joined(separator: "\n") : table.render()
    }

    /// One line of the table, Docker's columns.
    static func row(_ record: ContainerRecord, _ usage: ContainerUsage, since earlier: ContainerUsage, noTrunc: Bool) -> [String] {
        [
            noTrunc ? record.id : record.shortID, record.name,
            StatsFormat.percent(usage.cpuPercent(since: earlier)),
            StatsFormat.pair(StatsFormat.binarySize(usage.memoryBytes), StatsFormat.binarySize(usage.memoryLimit)),
            StatsFormat.percent(usage.memoryPercent),
            StatsFormat.pair(StatsFormat.decimalSize(usage.networkReceived), StatsFormat.decimalSize(usage.networkSent)),
            StatsFormat.pair(StatsFormat.decimalSize(usage.blockRead), StatsFormat.decimalSize(usage.blockWritten)),
            String(usage.pids),
        ]
    }

    private func pause(milliseconds: Int) {
        var left = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        // An interrupted sleep goes on with what is left, a few times at most.
        for _ in 0..<100 {
            var request = left
            guard nanosleep(&request, &left) != 0, errno == EINTR else { return }
        }
    }
}
