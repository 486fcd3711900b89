import JSONBenchDocuments

#if canImport(Glibc)
import Glibc
#endif

/// Writes a line to standard error (Glibc's `stderr` is a mutable global Swift 6 won't touch).
func printError(_ message: String) {
    let line = Array((message + "\n").utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

// json-bench [--quick] [--only KIND]: time per document of each way berth could read and write
// its JSON, after the first calls (metadata, caches and allocator warm). json-startup measures
// the first call. json-bench --write DIR writes the documents as files, KIND-SIZE.json, for it.

func usage() -> Never {
    printError("usage: json-bench [--quick] [--only \(DocumentKind.allCases.map(\.rawValue).joined(separator: "|"))] | --write DIR")
    exit(2)
}

/// Writes every document as DIR/KIND-SIZE.json (DIR/KIND.json for those of one size).
func writeDocuments(to directory: String) -> Never {
    for kind in DocumentKind.allCases {
        for size in kind.sizes {
            let path = directory + "/" + kind.rawValue + (kind.sizes.count > 1 ? "-" + size.rawValue : "") + ".json"
            let bytes = kind.bytes(size)
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            let written = fd < 0 ? -1 : bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if fd >= 0 { close(fd) }
            guard written == bytes.count else {
                printError("json-bench: cannot write \(path)")
                exit(1)
            }
        }
    }
    exit(0)
}

var quick = false
var only: DocumentKind?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--quick": quick = true
    case "--write":
        guard let directory = arguments.popFirst() else { usage() }
        writeDocuments(to: directory)
    case "--only":
        guard let name = arguments.popFirst(), let kind = DocumentKind(rawValue: name) else { usage() }
        only = kind
    default: usage()
    }
}

/// Rounds per case; each round times one batch of every coder in turn, so a burst of load from
/// the other builders on this machine hits all of them alike rather than one.
let rounds = quick ? 5 : 31
/// A batch runs for at least this long, so the clock's resolution and the loop don't count.
let batchNanoseconds: UInt64 = quick ? 1_000_000 : 5_000_000

/// The CPU time of this thread, not the wall clock: on a machine shared with other builders the
/// time this process waits for a core is the others', and would swamp what is measured.
func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Keeps results alive so the optimizer cannot drop the work that made them.
nonisolated(unsafe) var sink = 0

/// One timed thing: a closure doing one decode or encode, and its calls per batch.
struct Contender {
    let coder: Coder
    let body: () throws -> Int
    var iterations = 1
    var samples: [Double] = []

    /// Doubles the calls per batch until a batch lasts `batchNanoseconds`.
    mutating func calibrate() throws {
        while true {
            let start = now()
            for _ in 0..<iterations { sink &+= try body() }
            if now() - start >= batchNanoseconds || iterations >= 1 << 24 { return }
            iterations *= 2
        }
    }

    mutating func sample() throws {
        let start = now()
        for _ in 0..<iterations { sink &+= try body() }
        samples.append(Double(now() - start) / Double(iterations))
    }

    var median: Double {
        let sorted = samples.sorted()
        return sorted[sorted.count / 2]
    }
}

func format(_ nanoseconds: Double?) -> String {
    guard let ns = nanoseconds else { return "-" }
    if ns >= 1_000_000 { return String(format2(ns / 1_000_000)) + " ms" }
    if ns >= 1_000 { return String(format2(ns / 1_000)) + " µs" }
    return String(Int(ns.rounded())) + " ns"
}

/// Two decimals without Foundation's String(format:).
func format2(_ x: Double) -> String {
    let hundredths = Int((x * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

func pad(_ s: String, _ width: Int, right: Bool = true) -> String {
    let n = s.count
    guard n < width else { return s }
    let fill = String(repeating: " ", count: width - n)
    return right ? fill + s : s + fill
}

print("json-bench: \(quick ? "quick run, " : "")median CPU time per document over \(rounds) rounds (batches of ≥ \(batchNanoseconds / 1_000_000) ms)")
print("F/Codable, F/JSONValue: FoundationEssentials' time over that of berth's way; below 1 means Foundation is faster.")
print("")
let header = [pad("document", 13, right: false), pad("size", 7, right: false), pad("bytes", 8), pad("op", 7),
              pad("ours-Codable", 13), pad("ours-JSONValue", 15), pad("Foundation", 12), pad("F/Codable", 10),
              pad("F/JSONValue", 12)]
print(header.joined(separator: " "))

do {
    for kind in DocumentKind.allCases where only == nil || only == kind {
        for size in kind.sizes {
            let bytes = kind.bytes(size)
            // Every decoder must agree with the hand-written or Codable reader, and every encoder's
            // output must read back as the same value: figures of a wrong result mean nothing.
            let reference = try (Coder.value.decodes(kind) ? Coder.value : Coder.codable).decode(kind, bytes)
            for coder in Coder.allCases where coder.decodes(kind) {
                guard try coder.decode(kind, bytes) == reference else {
                    throw CoderFailure(description: "\(coder.rawValue) decodes \(kind.rawValue) \(size.rawValue) differently")
                }
                if coder.encodes(kind) {
                    let written = try coder.encode(reference)
                    guard try Coder.codable.decode(kind, written) == reference else {
                        throw CoderFailure(description: "\(coder.rawValue)'s \(kind.rawValue) does not read back")
                    }
                }
            }
            for op in ["decode", "encode"] {
                var contenders: [Contender] = []
                for coder in Coder.allCases {
                    if op == "decode", coder.decodes(kind) {
                        contenders.append(Contender(coder: coder, body: { try coder.decode(kind, bytes).weight }))
                    } else if op == "encode", coder.encodes(kind) {
                        contenders.append(Contender(coder: coder, body: { try coder.encode(reference).count }))
                    }
                }
                guard !contenders.isEmpty else { continue }
                for i in contenders.indices { try contenders[i].calibrate() }
                for _ in 0..<rounds {
                    for i in contenders.indices { try contenders[i].sample() }
                }
                func figure(_ coder: Coder) -> Double? { contenders.first { $0.coder == coder }?.median }
                func ratio(_ ours: Coder) -> String {
                    guard let f = figure(.foundation), let o = figure(ours) else { return "-" }
                    return format2(f / o) + "×"
                }
                let line = [pad(kind.rawValue, 13, right: false), pad(kind.sizes.count > 1 ? size.rawValue : "-", 7, right: false),
                            pad(String(bytes.count), 8), pad(op, 7), pad(format(figure(.codable)), 13),
                            pad(format(figure(.value)), 15), pad(format(figure(.foundation)), 12),
                            pad(ratio(.codable), 10), pad(ratio(.value), 12)]
                print(line.joined(separator: " "))
            }
        }
    }
} catch {
    printError("json-bench: \(error)")
    exit(1)
}
if sink == 42 { print("") }
