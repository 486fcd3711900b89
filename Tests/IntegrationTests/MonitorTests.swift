import Foundation
import Testing

/// berth-monitor on its own, without a container: a shell forks a child whose stdout and stderr
/// go into two FIFOs, then execs the monitor with the FIFOs' read ends, so the monitor is the
/// child's parent as it is the container init's in `berth run -d`. The exit program records its
/// arguments in a file.
@Suite("berth-monitor", .serialized, .timeLimit(.minutes(2)))
struct MonitorTests {
    /// The built monitor, next to the test bundle (.build/<config>/berth-monitor).
    static let binary: String = {
        if let override = ProcessInfo.processInfo.environment["BERTH_MONITOR_BIN"] { return override }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("berth-monitor").path
    }()

    /// $1: the directory, $2: the monitor, $3: the child's shell command, then monitor options.
    /// The FIFOs are first opened read-write so that opening either end never blocks; those fds
    /// are closed once the child has its write ends, so EOF comes when the child's side closes.
    /// The child waits until the shell has become the monitor ($$ is the shell's pid in the
    /// subshell too): a child that ended earlier could be reaped by the shell.
    static let launcher = #"""
        set -e
        for fd in /proc/$$/fd/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        cd "$1"; monitor=$2; child=$3; shift 3
        mkfifo out err
        exec 3<>out 4<>err
        exec 5<out 6<err
        (
            exec >out 2>err 3>&- 4>&- 5<&- 6<&-
            until [ "$(cat /proc/$$/comm)" = berth-monitor ]; do sleep 0.01; done
            eval "$child"
        ) &
        echo $! > child.pid
        exec 3>&- 4>&-
        exec "$monitor" --pid $! --stdout 5 --stderr 6 --log "$PWD/container.log" "$@" \
            -- /bin/sh -c 'echo "$@" > exit-status' exit-program
        """#

    /// One monitor run in its own temporary directory.
    ///
    /// The launcher is spawned here rather than with Foundation's Process, which learns of an
    /// exit through a socket its child inherits: the monitor keeps every inherited fd, and so
    /// would an orphaned child, and the exit would go unnoticed. For the same reason every fd
    /// above 2 is closed first thing in the launcher (bash: dash takes only one-digit fds), so no
    /// other test's pipes end up held by a monitor.
    final class Run {
        let directory: String
        let monitorPID: pid_t
        private var status: Int32?

        /// Whether the directory is a tmpfs of its own (`tmpfsBytes`), unmounted at the end.
        private let mounted: Bool

        init(child: String, options: [String] = [], tmpfsBytes: Int? = nil) throws {
            directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("berth-monitor-\(getpid())-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if let tmpfsBytes {
                guard mount("tmpfs", directory, "tmpfs", 0, "size=\(tmpfsBytes),mode=0755") == 0 else {
                    throw FixtureError(message: "mount a tmpfs on \(directory): \(String(cString: strerror(errno)))")
                }
            }
            mounted = tmpfsBytes != nil
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, directory + "/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            let words = ["/bin/bash", "-c", MonitorTests.launcher, "launcher", directory, MonitorTests.binary, child] + options
            let argv = words.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            let err = posix_spawn(&pid, "/bin/bash", &actions, nil, argv, environ)
            guard err == 0 else { throw FixtureError(message: "posix_spawn /bin/bash: \(String(cString: strerror(err)))") }
            monitorPID = pid
        }

        deinit {
            if status == nil {
                kill(monitorPID, SIGKILL)
                var raw: Int32 = 0
                waitpid(monitorPID, &raw, 0)
            }
            if let pid = try? childPID(timeout: 0) { kill(pid, SIGKILL) }
            if mounted { umount2(directory, Int32(MNT_DETACH)) }
            try? FileManager.default.removeItem(atPath: directory)
        }

        func childPID(timeout: Double = 10) throws -> pid_t {
            let deadline = Date().addingTimeInterval(timeout)
            repeat {
                if let text = try? String(contentsOfFile: directory + "/child.pid", encoding: .utf8),
                   let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    return pid
                }
                usleep(10_000)
            } while Date() < deadline
            throw FixtureError(message: "the launcher never started the child")
        }

        /// Waits until the launcher has exec'd the monitor.
        /// Until the launcher has exec'd the monitor and the monitor has set its signals up
        /// (SIGTERM ignored): berth blocks those signals before the exec, this test's bash
        /// launcher does not, so on a slow machine a signal could land in between.
        func waitUntilMonitoring(timeout: Double = 10) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while !(isMonitor && ignores(SIGTERM)) {
                if Date() > deadline { throw FixtureError(message: "the launcher never became the monitor") }
                usleep(5_000)
            }
        }

        private var isMonitor: Bool {
            (try? String(contentsOfFile: "/proc/\(monitorPID)/comm", encoding: .utf8)) == "berth-monitor\n"
        }

        private func ignores(_ signal: Int32) -> Bool {
            guard let status = try? String(contentsOfFile: "/proc/\(monitorPID)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigIgn:") }),
                  let mask = UInt64(line.dropFirst("SigIgn:".count).trimmingCharacters(in: .whitespaces), radix: 16)
            else { return false }
            return mask & (1 << UInt64(signal - 1)) != 0
        }

        var isRunning: Bool {
            guard status == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(monitorPID, &raw, WNOHANG) == monitorPID else { return true }
            status = raw
            return false
        }

        /// Waits until the monitor (and the exit program after it) has finished; the raw wait status.
        @discardableResult
        func wait(timeout: Double = 30) throws -> Int32 {
            let deadline = Date().addingTimeInterval(timeout)
            while isRunning {
                if Date() > deadline { throw FixtureError(message: "the monitor did not finish within \(timeout) s") }
                usleep(10_000)
            }
            return status ?? -1
        }

        /// What the exit program was given, or nil if it never ran.
        var exitArguments: String? {
            (try? String(contentsOfFile: directory + "/exit-status", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        var stderr: String { (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "" }

        func file(_ name: String) -> Data { FileManager.default.contents(atPath: directory + "/" + name) ?? Data() }

        /// The records of one log file, each checked to be a json-file object.
        func records(_ name: String = "container.log") throws -> [(log: String, stream: String, time: String)] {
            let data = file(name)
            var records: [(String, String, String)] = []
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
                let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: String]
                guard let object, object.count == 3, let log = object["log"], let stream = object["stream"],
                      let time = object["time"] else {
                    throw FixtureError(message: "not a json-file record: \(String(decoding: line, as: UTF8.self))")
                }
                records.append((log, stream, time))
            }
            #expect(data.last == UInt8(ascii: "\n") || data.isEmpty, "\(name) ends mid-record")
            return records
        }
    }

    @Test func logsBothStreamsAndPassesTheExitStatus() throws {
        let run = try Run(child: #"printf 'a\nb'; echo err >&2; printf 'c\n'; exit 7"#)
        try run.wait()
        #expect(run.exitArguments == "--exit-status 7")
        let records = try run.records()
        #expect(records.filter { $0.stream == "stdout" }.map(\.log) == ["a\n", "bc\n"])
        #expect(records.filter { $0.stream == "stderr" }.map(\.log) == ["err\n"])
        for record in records {
            #expect(record.time.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z/) != nil, "\(record.time)")
        }
        #expect(run.stderr.isEmpty)
    }

    @Test func aPartialLineAtTheEndIsKept() throws {
        let run = try Run(child: #"printf 'one\ntwo'"#)
        try run.wait()
        #expect(try run.records().map(\.log) == ["one\n", "two"])
        #expect(run.exitArguments == "--exit-status 0")
    }

    @Test func aKilledChildGives128PlusTheSignal() throws {
        let run = try Run(child: "echo started; exec sleep 60")
        let child = try run.childPID()
        try run.waitUntilMonitoring()
        // Once the child is sleep, its echo has reached the pipe.
        try #require(eventually { (try? String(contentsOfFile: "/proc/\(child)/comm", encoding: .utf8)) == "sleep\n" })
        kill(child, SIGKILL)
        try run.wait()
        #expect(run.exitArguments == "--exit-status 137")
        #expect(try run.records().map(\.log) == ["started\n"])
    }

    @Test func escapesControlCharactersAndReplacesInvalidUTF8() throws {
        let run = try Run(child: #"printf 'tab\t"q" back\\ \001 \033[0m caf\303\251\n'; printf 'bad \377 \303( \355\240\200 end\n'"#)
        try run.wait()
        let raw = String(decoding: run.file("container.log"), as: UTF8.self)
        #expect(raw.contains(#"{"log":"tab\t\"q\" back\\ \u0001 \u001b[0m café\n","stream":"stdout","time":""#))
        // Each invalid byte is one U+FFFD; a surrogate's encoding (ED A0 80) is three.
        let records = try run.records()
        #expect(records.map(\.log) == ["tab\t\"q\" back\\ \u{1} \u{1b}[0m café\n",
                                       "bad \u{FFFD} \u{FFFD}( \u{FFFD}\u{FFFD}\u{FFFD} end\n"])
    }

    @Test func longLinesAreCutInto16KiBPieces() throws {
        let run = try Run(child: "head -c 40000 /dev/zero | tr '\\0' y; echo; printf 'short\\n'")
        try run.wait()
        let logs = try run.records().map(\.log)
        #expect(logs.map(\.utf8.count) == [16384, 16384, 40000 - 2 * 16384 + 1, 6])
        #expect(logs.dropLast().joined() == String(repeating: "y", count: 40000) + "\n")
    }

    @Test func aCutNeverSplitsAUTF8Character() throws {
        // 16383 bytes, then a two-byte é: the first piece stops before it.
        let run = try Run(child: "head -c 16383 /dev/zero | tr '\\0' y; printf '\\303\\251\\n'")
        try run.wait()
        let logs = try run.records().map(\.log)
        #expect(logs.map(\.utf8.count) == [16383, 3])
        #expect(logs.last == "é\n")
    }

    @Test func rotationKeepsTwoFilesAndLosesNothingFromTheNewest() throws {
        let run = try Run(child: #"i=1; while [ $i -le 2000 ]; do echo "line $i"; i=$((i+1)); done"#,
                          options: ["--log-max-size", "2000", "--log-max-files", "2"])
        try run.wait()
        let names = try FileManager.default.contentsOfDirectory(atPath: run.directory).filter { $0.hasPrefix("container.log") }
        #expect(names.sorted() == ["container.log", "container.log.1"])
        let older = try run.records("container.log.1").map(\.log)
        let newest = try run.records().map(\.log)
        #expect(run.file("container.log").count <= 2000)
        #expect(run.file("container.log.1").count <= 2000)
        // The two files hold the last lines, in order, without a gap.
        let all = older + newest
        let expected = (2001 - all.count...2000).map { "line \($0)\n" }
        #expect(all == expected)
        #expect(newest.count > 0)
    }

    /// Issue 11: after a full disk the monitor left half a record and, once there was room
    /// again, appended the next one to the same line. The log is on a 128 KiB tmpfs with a
    /// 48 KiB filler; the child writes far more than fits, pauses so that the monitor meets the
    /// full disk, removes the filler and writes again.
    @Test(.enabled(if: getuid() == 0, "needs root to mount a small tmpfs"))
    func aFullDiskLeavesWholeRecordsOnly() throws {
        let run = try Run(child: #"""
            head -c 49152 /dev/zero > filler
            i=0; while [ $i -lt 3000 ]; do echo "before $i, a line long enough to need a few records per page"; i=$((i+1)); done
            sleep 1
            rm filler
            i=0; while [ $i -lt 100 ]; do echo "after $i"; i=$((i+1)); done
            """#, tmpfsBytes: 128 * 1024)
        try run.wait()
        #expect(run.exitArguments == "--exit-status 0")
        // Every line a whole json-file record (records() throws on any other), the file ending
        // with a newline, and the lines written once there was room logged again.
        let records = try run.records()
        #expect(records.contains { $0.log.hasPrefix("before ") })
        #expect(records.contains { $0.log == "after 99\n" }, "\(records.suffix(3).map(\.log))")
        #expect(records.count < 3100, "the disk was never full")
    }

    @Test func oneFileMeansTruncateInPlace() throws {
        let run = try Run(child: #"i=1; while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); done"#,
                          options: ["--log-max-size", "1000", "--log-max-files", "1"])
        try run.wait()
        #expect(!FileManager.default.fileExists(atPath: run.directory + "/container.log.1"))
        #expect(try run.records().last?.log == "line 300\n")
    }

    @Test func memoryStaysSmallWhileTheChildWrites100MB() throws {
        let line = String(repeating: "x", count: 99)
        let run = try Run(child: "yes \(line) | head -c 100000000")
        let peak = Self.peakResidentKiB(of: run)
        try run.wait(timeout: 90)
        #expect(run.exitArguments == "--exit-status 0")
        #expect(peak > 0 && peak < 2048, "the monitor's peak RSS was \(peak) KiB")
        // The default rotation (10 MiB, two files) bounded the disk too; the last line is whole.
        #expect(run.file("container.log").count <= 10 * 1024 * 1024)
        #expect(try run.records().last?.log == line + "\n")
    }

    @Test func signalsOtherThanSIGKILLLeaveTheMonitorRunning() throws {
        let run = try Run(child: "sleep 1; echo done")
        try run.waitUntilMonitoring()
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGUSR1, SIGQUIT] {
            kill(run.monitorPID, signal)
        }
        try run.wait()
        #expect(run.exitArguments == "--exit-status 0")
        #expect(try run.records().map(\.log) == ["done\n"])
    }

    @Test func aKilledMonitorTakesNothingElseWithIt() throws {
        let run = try Run(child: "exec sleep 60")
        let child = try run.childPID()
        try run.waitUntilMonitoring()
        kill(run.monitorPID, SIGKILL)
        let status = try run.wait()
        #expect(status & 0x7f == SIGKILL)
        #expect(kill(child, 0) == 0, "the child died with the monitor")
        #expect(run.exitArguments == nil)
    }

    @Test func afterTheExitADescendantHoldingThePipeDelaysItOnlyBriefly() throws {
        // A process outside the container's pid namespace could keep the pipe open: the monitor
        // waits for 1 s of silence, not for EOF.
        let started = Date()
        let run = try Run(child: "sleep 20 & echo bye")
        try run.wait()
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(run.exitArguments == "--exit-status 0")
        #expect(try run.records().map(\.log) == ["bye\n"])
    }

    @Test("a monitor that cannot start says why and exits 125", arguments: [
        [] as [String],
        ["--pid", "1", "--log", "/tmp/x.log", "--", "/bin/true"],
        ["--pid", "\(getpid())", "--log", "/tmp/x.log"],
        ["--pid", "abc", "--log", "/tmp/x.log", "--", "/bin/true"],
        ["--pid", "1", "--stdout", "987", "--log", "/tmp/x.log", "--", "/bin/true"],
        ["--pid", "1", "--log", "/tmp/x.log", "--bogus", "1", "/bin/true"],
    ])
    func cannotStart(arguments: [String]) throws {
        let result = try Command.run(Self.binary, arguments)
        #expect(result.status == 125)
        #expect(result.stderr.hasPrefix("berth-monitor: ") && result.stderr.filter { $0 == "\n" }.count == 1,
                "\(result.stderr)")
    }

    @Test func theExitProgramFailingToStartStillReportsTheStatus() throws {
        let script = #"(until [ "$(cat /proc/$$/comm)" = berth-monitor ]; do sleep 0.01; done; exit 3) &"#
            + #" exec "$0" --pid $! --log /dev/null -- /nonexistent"#
        let result = try Command.run("/bin/sh", ["-c", script, Self.binary])
        #expect(result.status == 3)
        #expect(result.stderr.contains("exec /nonexistent"), "\(result.stderr)")
    }

    /// The largest VmHWM of the run's monitor seen while it is still the monitor (the exit
    /// program replaces it).
    static func peakResidentKiB(of run: Run) -> Int {
        var peak = 0
        while run.isRunning {
            guard let comm = try? String(contentsOfFile: "/proc/\(run.monitorPID)/comm", encoding: .utf8),
                  comm.hasPrefix("berth-monitor"),
                  let status = try? String(contentsOfFile: "/proc/\(run.monitorPID)/status", encoding: .utf8) else {
                usleep(5_000)
                continue
            }
            for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
                let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
                peak = max(peak, kib)
            }
            usleep(20_000)
        }
        return peak
    }
}
