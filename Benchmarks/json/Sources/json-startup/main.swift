import JSONBenchDocuments

#if canImport(Glibc)
import Glibc
#endif

/// Writes a line to standard error (Glibc's `stderr` is a mutable global Swift 6 won't touch).
func printError(_ message: String) {
    let line = Array((message + "\n").utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

// json-startup MODE [--time] [--encode] KIND=FILE...: a fresh process that reads each FILE as a KIND
// document (config, manifest, index, record, …) with one coder and exits. Run under hyperfine
// against MODE `none` (the same binary, reading the files and decoding nothing), the difference
// is what the first decode costs a berth command: the Swift runtime instantiating the generic
// metadata and witness tables of the coder's containers, lazy globals, first allocations and
// the page faults of code run once. With --time it also prints, in ns of CPU time, how long the decodes of
// all the FILEs took the first time and how long the same decodes took right after.
//
// With --encode the documents are decoded by the hand-written readers (the runtime spec by the
// Codable layer) for every mode, `none` included, and MODE's coder then writes each of them back
// (those it can write): what a berth command that writes documents (commit, load, tag) pays the
// first time it encodes.

func fail(_ message: String) -> Never {
    printError("json-startup: \(message)")
    exit(2)
}

func readFile(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { fail("cannot open \(path)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { fail("cannot read \(path)") }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
    }
}

/// The CPU time of this thread, not the wall clock: on a machine shared with other builders the
/// time this process waits for a core is the others', and would swamp what is measured.
func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard !arguments.isEmpty else {
    fail("usage: json-startup none|ours-Codable|ours-JSONValue|Foundation [--time] [--encode] KIND=FILE...")
}
let modeName = arguments.removeFirst()
let coder: Coder? = modeName == "none" ? nil : Coder(rawValue: modeName)
if modeName != "none", coder == nil { fail("unknown mode \(modeName)") }
let timed = arguments.first == "--time"
if timed { arguments.removeFirst() }
let encoding = arguments.first == "--encode"
if encoding { arguments.removeFirst() }

// The files are read before anything is decoded, so `none` pays the same reading.
let documents: [(DocumentKind, [UInt8])] = arguments.map { argument in
    let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
    guard parts.count == 2, let kind = DocumentKind(rawValue: parts[0]) else { fail("not KIND=FILE: \(argument)") }
    return (kind, readFile(parts[1]))
}

var weight = 0
if encoding {
    do {
        let values = try documents.map { kind, bytes in
            try (Coder.value.decodes(kind) ? Coder.value : Coder.codable).decode(kind, bytes)
        }
        guard let coder else { exit(values.count < 0 ? 1 : 0) }
        let written = zip(documents, values).filter { coder.encodes($0.0.0) }.map(\.1)
        var start = now()
        for value in written { weight &+= try coder.encode(value).count }
        let first = now() - start
        if timed {
            start = now()
            for value in written { weight &+= try coder.encode(value).count }
            print("first \(first) again \(now() - start)")
        }
    } catch {
        fail("\(error)")
    }
    exit(weight < 0 ? 1 : 0)
}

guard let coder else { exit(0) }
do {
    var start = now()
    for (kind, bytes) in documents { weight &+= try coder.decode(kind, bytes).weight }
    let first = now() - start
    if timed {
        start = now()
        for (kind, bytes) in documents { weight &+= try coder.decode(kind, bytes).weight }
        print("first \(first) again \(now() - start)")
    }
} catch {
    fail("\(error)")
}
// The decoded values feed the exit status's condition, so no decode can be optimized away.
exit(weight < 0 ? 1 : 0)
