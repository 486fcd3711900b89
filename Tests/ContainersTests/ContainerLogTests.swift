import Containers
import Foundation
import Synchronization
import Testing

/// A json-file log written by hand, as berth-monitor would write it, in a temporary directory.
private struct LogFixture {
    let root: TemporaryRoot
    let files: LogFiles
    var path: String { files.path }

    init() throws {
        root = try TemporaryRoot()
        files = LogFiles(path: root.path + "/container.log")
    }

    func write(_ text: String, to name: String? = nil) throws { try files.write(text, to: name) }
    func append(_ text: String) throws { try files.append(text) }

    static func line(_ text: String, _ stream: String = "stdout", time: String = "2026-11-25T17:30:01.123456789Z") -> String {
        // The monitor's escaping for the plain texts these tests use.
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "{\"log\":\"\(escaped)\",\"stream\":\"\(stream)\",\"time\":\"\(time)\"}\n"
    }

    static func lines(_ range: ClosedRange<Int>) -> String {
        range.map { line("line \($0)\n") }.joined()
    }

}

/// The files of the log (also for a writer thread: it holds only the path).
private struct LogFiles: Sendable {
    let path: String

    func write(_ text: String, to name: String? = nil) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try Data(text.utf8).write(to: URL(fileURLWithPath: name.map { directory + "/" + $0 } ?? path))
    }

    func append(_ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    func rotate() throws {
        if FileManager.default.fileExists(atPath: path + ".1") { try FileManager.default.removeItem(atPath: path + ".1") }
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
    }

    /// The monitor's rotation with `files` files in all: path.(files-2) → path.(files-1), …,
    /// path → path.1, then a new, empty path.
    func rotate(keeping files: Int) throws {
        let fm = FileManager.default
        for n in stride(from: files - 1, through: 1, by: -1) {
            let from = n == 1 ? path : "\(path).\(n - 1)"
            let to = "\(path).\(n)"
            guard fm.fileExists(atPath: from) else { continue }
            if fm.fileExists(atPath: to) { try fm.removeItem(atPath: to) }
            try fm.moveItem(atPath: from, toPath: to)
        }
        try write("")
    }
}

private func texts(_ entries: [ContainerLog.Entry]) -> [String] {
    entries.map { String(decoding: $0.log, as: UTF8.self) }
}

/// A flag set on one thread and read on another.
private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

@Suite("container log (json-file)") struct ContainerLogTests {
    @Test func parsesStreamsTimesAndEscapes() throws {
        let log = try LogFixture()
        try log.write(
            LogFixture.line("hello\n")
            + #"{"log":"say \"hi\"\\ \t\r\b\f\u0001\u001b[0m\n","stream":"stderr","time":"2026-11-25T17:30:02.000000001Z"}"# + "\n"
            + #"{"log":"caf\u00e9 \ufffd ☃ no newline","stream":"stdout","time":"t"}"# + "\n")
        let entries = try ContainerLog(path: log.path).entries()
        #expect(entries.count == 3)
        #expect(entries[0] == ContainerLog.Entry(stream: .stdout, time: "2026-11-25T17:30:01.123456789Z",
                                                  log: Array("hello\n".utf8)))
        #expect(entries[1].stream == .stderr)
        #expect(entries[1].time == "2026-11-25T17:30:02.000000001Z")
        #expect(entries[1].log == Array("say \"hi\"\\ \t\r\u{8}\u{c}\u{1}\u{1b}[0m\n".utf8))
        // U+FFFD (what the monitor puts for invalid UTF-8) comes back as its three bytes.
        #expect(entries[2].log == Array("café ".utf8) + [0xEF, 0xBF, 0xBD] + Array(" ☃ no newline".utf8))
    }

    @Test func skipsDamagedAndUnfinishedLines() throws {
        let log = try LogFixture()
        try log.write(LogFixture.line("a\n") + "not json\n" + #"{"log":"x","stream":"video"}"# + "\n"
                      + LogFixture.line("b\n") + #"{"log":"half"#)
        #expect(texts(try ContainerLog(path: log.path).entries()) == ["a\n", "b\n"])
    }

    @Test func missingLogHasNoEntries() throws {
        let log = try LogFixture()
        #expect(try ContainerLog(path: log.path).entries().isEmpty)
        #expect(try ContainerLog(path: log.path).entries(tail: 3).isEmpty)
    }

    @Test("tail counts lines across the rotated files, oldest first",
          arguments: [(nil, 1), (0, 10), (1, 9), (4, 6), (5, 5), (9, 1), (100, 1)] as [(Int?, Int)])
    func tailAcrossRotations(tail: Int?, first: Int) throws {
        let log = try LogFixture()
        try log.write(LogFixture.lines(1...3), to: "container.log.2")
        try log.write(LogFixture.lines(4...5), to: "container.log.1")
        try log.write(LogFixture.lines(6...9) + #"{"log":"unfinished"#)
        let got = texts(try ContainerLog(path: log.path).entries(tail: tail))
        #expect(got == (first..<10).map { "line \($0)\n" })
    }

    @Test func tailReadsBackwardsThroughALargeFile() throws {
        let log = try LogFixture()
        try log.write(LogFixture.lines(1...20_000))
        let got = texts(try ContainerLog(path: log.path).entries(tail: 3))
        #expect(got == ["line 19998\n", "line 19999\n", "line 20000\n"])
    }

    @Test func followsAcrossARotation() throws {
        let log = try LogFixture()
        try log.write(LogFixture.lines(1...3))
        let files = log.files
        let stopped = Flag()
        let writerError = Mutex<String?>(nil)
        // The writer's pauses pace it like a container's output, so that the follower, polling
        // every 10 ms, meets each state in turn (half a line, a rotation between two polls); what
        // the test asserts, the whole output in order, does not depend on their length.
        let writer = Thread {
            do {
                usleep(50_000)
                try files.append(LogFixture.lines(4...5))
                // Half a line, then its end: the follower must wait for the newline.
                try files.append(String(LogFixture.line("line 6\n").dropLast(10)))
                usleep(50_000)
                try files.append(String(LogFixture.line("line 6\n").suffix(10)))
                usleep(50_000)
                // Rotation as the monitor does it: more lines, rename, a new file.
                try files.append(LogFixture.lines(7...8))
                try files.rotate()
                usleep(30_000)
                try files.write(LogFixture.lines(9...10))
                usleep(50_000)
                try files.rotate()
                try files.write(LogFixture.lines(11...11))
                try files.append(LogFixture.lines(12...12))
            } catch {
                writerError.withLock { $0 = "\(error)" }
            }
            stopped.set()
        }
        writer.start()
        var followLog = ContainerLog(path: log.path)
        followLog.pollInterval = 10_000
        var got: [String] = []
        try followLog.follow(from: .beginning, until: { stopped.isSet }, emit: { got.append(String(decoding: $0.log, as: UTF8.self)) })
        #expect(writerError.withLock { $0 } == nil)
        #expect(got == (1...12).map { "line \($0)\n" })
    }

    /// A follower waits on the monitor's writes, not on a clock: with a minute between its
    /// looks when nothing happens, each line written still reaches it at once, and a write
    /// after the end is asked for ends it.
    @Test func followWakesOnAWrite() throws {
        let log = try LogFixture()
        try log.write(LogFixture.lines(1...1))
        let files = log.files
        let stopped = Flag()
        let seen = Mutex(0)
        let writerError = Mutex<String?>(nil)
        let writer = Thread {
            do {
                for n in 2...4 {
                    // Each line once the one before it was read: every one needs a wake.
                    let deadline = Date().addingTimeInterval(20)
                    while seen.withLock({ $0 }) < n - 1, Date() < deadline { usleep(1_000) }
                    try files.append(LogFixture.lines(n...n))
                }
                let deadline = Date().addingTimeInterval(20)
                while seen.withLock({ $0 }) < 4, Date() < deadline { usleep(1_000) }
                stopped.set()
                try files.append(LogFixture.lines(5...5))
            } catch {
                writerError.withLock { $0 = "\(error)" }
                stopped.set()
            }
        }
        writer.start()
        var followLog = ContainerLog(path: log.path)
        followLog.pollInterval = 60_000_000
        var got: [String] = []
        let started = Date()
        try followLog.follow(from: .beginning, until: { stopped.isSet }, emit: { entry in
            got.append(String(decoding: entry.log, as: UTF8.self))
            seen.withLock { $0 += 1 }
        })
        #expect(writerError.withLock { $0 } == nil)
        #expect(got == (1...5).map { "line \($0)\n" })
        #expect(Date().timeIntervalSince(started) < 30, "the follower slept through the writes")
    }

    /// Issue 11: with max-file=5, a log that rotated several times between two looks lost the
    /// files in between (`.2`, `.3`, …): 46 557 of 60 000 lines. The follower here looks only
    /// after each burst of three rotations, and must read every line once, in order.
    @Test func followsAcrossManyRotationsBetweenTwoLooks() throws {
        let log = try LogFixture()
        try log.write(LogFixture.lines(1...2))
        let files = log.files
        let followLog = ContainerLog(path: log.path)
        var got: [String] = []
        var lost = 0
        var next = 3
        var bursts = 0
        try followLog.follow(from: .beginning, until: {
            // Between two looks: three rotations, each file holding two lines.
            guard bursts < 4 else { return true }
            bursts += 1
            do {
                for _ in 0..<3 {
                    try files.append(LogFixture.lines(next...next + 1))
                    next += 2
                    try files.rotate(keeping: 5)
                }
                try files.append(LogFixture.lines(next...next))
                next += 1
            } catch {
                Issue.record("writing the log: \(error)")
                return true
            }
            return false
        }, linesLost: { lost += 1 }, emit: { got.append(String(decoding: $0.log, as: UTF8.self)) })
        #expect(got == (1..<next).map { "line \($0)\n" })
        #expect(lost == 0)
    }

    @Test func aFollowerLeftBehindByDeletedFilesSaysSo() throws {
        let log = try LogFixture()
        try log.write(LogFixture.lines(1...1))
        let files = log.files
        let followLog = ContainerLog(path: log.path)
        var got: [String] = []
        var lost = 0
        var done = false
        try followLog.follow(from: .beginning, until: {
            guard !done else { return true }
            done = true
            do {
                // Five rotations with two files kept: lines 2 to 5 are deleted unread.
                for n in 2...6 {
                    try files.append(LogFixture.lines(n...n))
                    try files.rotate(keeping: 2)
                }
                try files.append(LogFixture.lines(7...7))
            } catch {
                Issue.record("writing the log: \(error)")
            }
            return false
        }, linesLost: { lost += 1 }, emit: { got.append(String(decoding: $0.log, as: UTF8.self)) })
        #expect(lost == 1)
        #expect(got.first == "line 1\n" && got.suffix(2) == ["line 6\n", "line 7\n"], "\(got)")
    }

    @Test func followFromTheTailSkipsOlderLines() throws {
        let log = try LogFixture()
        try log.write(LogFixture.lines(1...2), to: "container.log.1")
        try log.write(LogFixture.lines(3...4))
        var got: [String] = []
        var looks = 0
        var followLog = ContainerLog(path: log.path)
        followLog.pollInterval = 1000
        try followLog.follow(from: .last(3), until: {
            looks += 1
            if looks == 1 { try? log.append(LogFixture.lines(5...5)) }
            return looks == 2
        }, emit: { got.append(String(decoding: $0.log, as: UTF8.self)) })
        #expect(got == (2...5).map { "line \($0)\n" })

        // .last(0): only what comes next; a log that appears later is read from its start.
        let fresh = try LogFixture()
        got = []
        looks = 0
        try ContainerLog(path: fresh.path).follow(from: .last(0), until: {
            looks += 1
            if looks == 1 { try? fresh.write(LogFixture.lines(1...2)) }
            return looks == 2
        }, emit: { got.append(String(decoding: $0.log, as: UTF8.self)) })
        #expect(got == ["line 1\n", "line 2\n"])
    }
}

extension ContainerLogTests {
    @Test func followStartsOverWhenTheLogIsTruncatedInPlace() throws {
        // --log-max-files 1: the monitor truncates the file instead of renaming it.
        let log = try LogFixture()
        try log.write(LogFixture.lines(1...3))
        var got: [String] = []
        var looks = 0
        var followLog = ContainerLog(path: log.path)
        followLog.pollInterval = 1000
        try followLog.follow(from: .beginning, until: {
            looks += 1
            if looks == 1 {
                let handle = FileHandle(forWritingAtPath: log.path)
                try? handle?.truncate(atOffset: 0)
                try? handle?.close()
                try? log.append(LogFixture.lines(4...4))
            }
            return looks == 2
        }, emit: { got.append(String(decoding: $0.log, as: UTF8.self)) })
        #expect(got == (1...4).map { "line \($0)\n" })
    }
}
