import Foundation
import Testing

/// A state root with the fixture's busybox imported as busybox:1.35, for the lifecycle tests
/// (issue 5): runs berth against it, starts detached containers under the fixture's cgroup
/// parent, and removes every container it holds when the test is done, passed or not.
final class LifecycleRoot: Sendable {
    static let image = "busybox:1.35"

    let fixture: Fixture
    let path: String

    init(_ fixture: Fixture = .shared) throws {
        if let error = fixture.setupError { throw FixtureError(message: error) }
        self.fixture = fixture
        path = try fixture.makeStateRoot()
        let imported = try fixture.berth(["import", fixture.rootfs, Self.image], root: path)
        guard imported.status == 0 else { throw FixtureError(message: "import: \(imported.stderr)") }
    }

    var containersDirectory: String { path + "/containers" }
    var namesDirectory: String { path + "/container-names" }

    /// `berth --root ROOT ARGS...`, its output through files (see `FileCommand`).
    func berth(_ args: [String], stdin: String? = nil, timeout: Double = 60) throws -> Command.Result {
        try FileCommand.run(fixture.berth, ["--root", path] + Fixture.offline(args), stdin: stdin, timeout: timeout)
    }

    /// The arguments of `berth run -d` under the fixture's cgroup parent.
    func runArguments(_ options: [String], _ command: [String]) -> [String] {
        ["run", "-d", "--cgroup-parent", fixture.cgroupParent] + Fixture.networkDefault(options) + [Self.image] + command
    }

    /// `berth run -d OPTIONS busybox:1.35 COMMAND...`; the container's full id.
    func runDetached(_ options: [String] = [], _ command: [String]) throws -> String {
        let r = try berth(runArguments(options, command))
        guard r.status == 0, r.output.wholeMatch(of: /[0-9a-f]{64}/) != nil else {
            throw FixtureError(message: "run -d \(command) exited \(r.status): \(r.stdout) \(r.stderr)")
        }
        return r.output
    }

    /// `berth inspect NAME`'s one object.
    func inspect(_ name: String) throws -> [String: Any] {
        let r = try berth(["inspect", name])
        guard r.status == 0 else { throw FixtureError(message: "inspect \(name): \(r.stderr)") }
        let value = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        guard let array = value as? [[String: Any]], array.count == 1, let object = array.first else {
            throw FixtureError(message: "inspect \(name) is not an array of one object: \(r.stdout)")
        }
        return object
    }

    /// `inspect`'s State object.
    func state(_ name: String) throws -> [String: Any] {
        try inspect(name)["State"] as? [String: Any] ?? [:]
    }

    /// The container's HostConfig.Cgroup.
    func cgroup(_ name: String) throws -> String {
        ((try inspect(name)["HostConfig"] as? [String: Any])?["Cgroup"] as? String) ?? ""
    }

    /// `ps -a --format json`, one object per container.
    func list() throws -> [[String: Any]] {
        let r = try berth(["ps", "-a", "--format", "json"])
        guard r.status == 0 else { throw FixtureError(message: "ps: \(r.stderr)") }
        return try r.stdout.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw FixtureError(message: "ps --format json: not an object: \(line)")
            }
            return object
        }
    }

    /// `ps -a`'s STATUS of the container (by its name), or nil when it is not listed.
    func status(_ name: String) throws -> String? {
        try list().first { $0["Names"] as? String == name }?["Status"] as? String
    }

    /// Polls `condition` every 50 ms until it holds or `seconds` pass; whether it held.
    func waitUntil(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        try eventually(within: seconds, poll: 0.05, condition)
    }

    /// Removes every container of the root (`rm -f` of `ps -aq`), then the processes that
    /// still name the root (a monitor or berth that `rm` could not reach). Called from a
    /// `defer`, so it never throws.
    func removeAll() {
        if let ids = try? berth(["ps", "-a", "-q", "--no-trunc"]), ids.status == 0 {
            let names = ids.output.split(separator: "\n").map(String.init)
            if !names.isEmpty { _ = try? berth(["rm", "-f"] + names, timeout: 120) }
        }
        for pid in Kernel.processes(mentioning: path) { kill(pid, SIGKILL) }
    }

    /// What a removed container can leave behind: processes that name the root on their
    /// command line (berth, monitors), processes in cgroups under the fixture's cgroup parent,
    /// cgroup directories there, mounts under the root, records and names. Empty when clean.
    func leftovers() -> [String] {
        var found: [String] = []
        found += Kernel.processes(mentioning: path).map { "process \($0): \(Kernel.commandLine($0))" }
        found += Kernel.processesInCgroups(under: fixture.cgroupParent).map {
            "process \($0) in the cgroup parent: \(Kernel.commandLine($0))"
        }
        found += Kernel.cgroupDirectories(under: fixture.cgroupParent).map { "cgroup \($0)" }
        found += Kernel.mounts(under: path).map { "mount \($0)" }
        found += Kernel.containerEntries(containersDirectory).map { id in
            "containers/\(id) holding \(Kernel.entries(containersDirectory + "/" + id).sorted())"
        }
        found += Kernel.entries(path + "/run/containers").map { "run/containers/\($0)" }
        found += Kernel.entries(namesDirectory).map { name in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: namesDirectory + "/" + name)) ?? "?"
            return "container-names/\(name) -> \(target)"
        }
        return found
    }
}

/// What the kernel says about processes, cgroups and mounts, read from /proc and /sys.
enum Kernel {
    static func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    static func entries(_ directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    }

    /// The entries of a state root's containers/ directory but its spare record directories
    /// (`.spare-N` and `.spare-layered-N`, kept for the next containers, holding nothing but
    /// their spare files and, in a layered one, an empty upper/ and work/): a spare with anything
    /// else in it is listed.
    static func containerEntries(_ directory: String) -> [String] {
        entries(directory).filter { name in
            let spare = directory + "/" + name
            let layered = name.hasPrefix(".spare-layered-")
            let files: Set = layered ? ["config.spare", "launch.spare", "upper", "work"] : ["config.spare", "launch.spare"]
            return !(name.hasPrefix(".spare-") && entries(spare).allSatisfy(files.contains)
                     && (!layered || (entries(spare + "/upper").isEmpty && entries(spare + "/work").isEmpty)))
        }
    }

    static func isAlive(_ pid: Int32) -> Bool {
        // A zombie counts as gone: it no longer runs anything.
        guard let stat = read("/proc/\(pid)/stat") else { return false }
        return state(stat) != "Z"
    }

    /// The fields of /proc/PID/stat after the command name (which may hold spaces).
    private static func fieldsAfterName(_ stat: String) -> [Substring] {
        guard let close = stat.lastIndex(of: ")") else { return [] }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    private static func state(_ stat: String) -> String { fieldsAfterName(stat).first.map(String.init) ?? "" }

    static func parent(of pid: Int32) -> Int32? {
        guard let stat = read("/proc/\(pid)/stat") else { return nil }
        let fields = fieldsAfterName(stat)
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// The process's open fds and what each refers to ("/dev/null", "pipe:[123]", a path).
    static func fileDescriptors(of pid: Int32) -> [(fd: Int32, target: String)] {
        entries("/proc/\(pid)/fd").compactMap { name in
            guard let fd = Int32(name),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(name)")
            else { return nil }
            return (fd, target)
        }.sorted { $0.fd < $1.fd }
    }

    static func comm(_ pid: Int32) -> String {
        (read("/proc/\(pid)/comm") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func commandLine(_ pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    static func allPIDs() -> [Int32] { entries("/proc").compactMap(Int32.init) }

    /// Live processes (not this one) whose command line contains `text`.
    static func processes(mentioning text: String) -> [Int32] {
        allPIDs().filter { $0 != getpid() && isAlive($0) && commandLine($0).contains(text) }
    }

    /// Live processes whose cgroup (any hierarchy) lies under the cgroup parent.
    static func processesInCgroups(under parent: String) -> [Int32] {
        allPIDs().filter { pid in
            guard isAlive(pid), let text = read("/proc/\(pid)/cgroup") else { return false }
            return text.split(separator: "\n").contains { $0.contains(":/\(parent)/") }
        }
    }

    /// The hierarchies the cgroup drivers use on this host: the v1 controllers, or the
    /// unified tree.
    static var hierarchies: [String] {
        if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") { return ["/sys/fs/cgroup"] }
        return entries("/sys/fs/cgroup").map { "/sys/fs/cgroup/" + $0 }.filter {
            FileManager.default.fileExists(atPath: $0 + "/cgroup.procs")
        }
    }

    /// Container cgroups (any directory) under the cgroup parent, in every hierarchy.
    static func cgroupDirectories(under parent: String) -> [String] {
        hierarchies.flatMap { base -> [String] in
            let dir = base + "/" + parent
            var isDirectory: ObjCBool = false
            return entries(dir).filter {
                FileManager.default.fileExists(atPath: dir + "/" + $0, isDirectory: &isDirectory) && isDirectory.boolValue
            }.map { dir + "/" + $0 }
        }
    }

    /// The pids in a container's cgroup (`HostConfig.Cgroup`), from the memory controller on
    /// v1 or the unified tree on v2.
    static func cgroupProcs(_ cgroup: String) -> [Int32]? {
        let relative = cgroup.hasPrefix("/") ? String(cgroup.dropFirst()) : cgroup
        let base = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
            ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory"
        return read("\(base)/\(relative)/cgroup.procs").map { $0.split(separator: "\n").compactMap { Int32($0) } }
    }

    /// Mount points at or under `path`, from this process's mountinfo.
    static func mounts(under path: String) -> [String] {
        (read("/proc/self/mountinfo") ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = String(fields[4])
            return point == path || point.hasPrefix(path + "/") ? point : nil
        }
    }

    /// VmRSS of a process, in KiB.
    static func residentKiB(_ pid: Int32) -> Int? {
        guard let status = read("/proc/\(pid)/status") else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
    }
}

/// A berth process the test reads from while it runs (`logs -f`, a long `exec`), its stdout
/// and stderr going to files that can be read at any time.
final class StreamingCommand {
    let spawned: Spawned
    private let outPath: String, errPath: String
    private var exitStatus: Int32?
    private var reaped = false

    init(_ path: String, _ arguments: [String]) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("berth-stream-\(UUID().uuidString)").path
        outPath = base + ".out"
        errPath = base + ".err"
        spawned = try Spawned(path, arguments, stdout: outPath, stderr: errPath)
    }

    deinit {
        if !reaped { _ = spawned.wait(seconds: 0) }
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }

    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
    var outputPath: String { outPath }

    /// Still running (not reaped yet, not a zombie).
    var isRunning: Bool { !reaped && Kernel.isAlive(spawned.pid) }
    /// The exit code once `wait` reaped it.
    var status: Int32? { exitStatus }

    /// Waits up to `seconds` for the process to end by itself; whether it did. It is killed
    /// otherwise, and reaped either way.
    @discardableResult
    func wait(seconds: Double) -> Bool {
        guard !reaped else { return exitStatus != nil }
        exitStatus = spawned.wait(seconds: seconds)
        reaped = true
        return exitStatus != nil
    }
}

/// Runs a program to completion like `Command.run`, but without Foundation's `Process` and
/// with its stdout and stderr going to files rather than pipes. A container monitor that
/// `run -d`, `start` or `restart` leaves behind must not keep copies of berth's descriptors
/// (`Lifecycle.runDetachedClosesOutput` checks that); if one did, a pipe, or the socket through
/// which `Process` learns of its child's exit, would make the caller wait until the container
/// ends and hang every test here. posix_spawn and waitpid have no such channel.
enum FileCommand {
    static func run(_ path: String, _ arguments: [String], stdin: String? = nil, timeout: Double = 60) throws -> Command.Result {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("berth-cmd-\(UUID().uuidString)").path
        let outPath = base + ".out", errPath = base + ".err", inPath = base + ".in"
        defer {
            for file in [outPath, errPath, inPath] { try? FileManager.default.removeItem(atPath: file) }
        }
        try (stdin ?? "").write(toFile: inPath, atomically: false, encoding: .utf8)
        let spawned = try Spawned(path, arguments, stdin: stdin == nil ? "/dev/null" : inPath, stdout: outPath, stderr: errPath)
        let status = spawned.wait(seconds: timeout)
        return Command.Result(status: status ?? -1,
                              stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                              stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }
}

/// A process started with posix_spawn, its stdin, stdout and stderr opened from paths, reaped
/// with waitpid (see `FileCommand` for why not `Process`).
struct Spawned {
    let pid: pid_t

    init(_ path: String, _ arguments: [String], stdin: String = "/dev/null", stdout: String, stderr: String) throws {
        try self.init(path, arguments) { actions in
            posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
    }

    /// With the descriptors `stdin`, `stdout` and `stderr` of this process as its 0, 1 and 2.
    init(_ path: String, _ arguments: [String], stdinFD: Int32, stdoutFD: Int32, stderrFD: Int32) throws {
        try self.init(path, arguments) { actions in
            posix_spawn_file_actions_adddup2(&actions, stdinFD, 0)
            posix_spawn_file_actions_adddup2(&actions, stdoutFD, 1)
            posix_spawn_file_actions_adddup2(&actions, stderrFD, 2)
        }
    }

    private init(_ path: String, _ arguments: [String], _ io: (inout posix_spawn_file_actions_t) -> Void) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        io(&actions)
        // As from a terminal: the default actions for the signals a shell's background job (or
        // this test runner) may have inherited as ignored, and none blocked.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), none = sigset_t()
        sigemptyset(&defaults)
        sigemptyset(&none)
        for signal in [SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var argv = ([path] + arguments).map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw FixtureError(message: "posix_spawn \(path): \(String(cString: strerror(rc)))") }
        pid = child
    }

    /// The exit code (128+signal when killed), or nil when it was still running after
    /// `seconds` (it is killed then, and reaped).
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { return nil }
            if Date() >= deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                return nil
            }
            usleep(2000)
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
