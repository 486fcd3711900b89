import Foundation
import Testing

/// The shared fixture of the integration tests: the berth binary under test, a busybox root
/// with the static payload in it (built once per test process), and a unique cgroup parent
/// so that nothing a test creates can touch the host's or another run's containers.
final class Fixture: Sendable {
    static let shared = Fixture()

    let repository: URL
    let berth: String
    let workspace: URL
    let rootfs: String
    let cgroupParent: String
    let setupError: String?

    private init() {
        repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        if let override = ProcessInfo.processInfo.environment["BERTH_BIN"] {
            berth = override
        } else {
            // The test bundle sits next to the products: .build/<config>/berthPackageTests.xctest
            let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            berth = bundle.appendingPathComponent("berth").path
        }
        workspace = FileManager.default.temporaryDirectory
            .appendingPathComponent("berth-it-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        rootfs = workspace.appendingPathComponent("rootfs").path
        cgroupParent = "berth-test-\(getpid())"
        var error: String?
        if Host.canRunContainers {
            error = Fixture.prepare(repository: repository, workspace: workspace, rootfs: rootfs)
        }
        setupError = error
        // The workspace and the cgroup parent go when the test process exits.
        atexit {
            Fixture.removeEverything()
        }
    }

    private static func prepare(repository: URL, workspace: URL, rootfs: String) -> String? {
        do {
            try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
            let script = repository.appendingPathComponent("rootfs-scripts/busybox.sh").path
            // Generous: in the emulated VM on a busy host, the 269 applet links alone took over a minute.
            let built = try Command.run("/bin/bash", [script, rootfs], timeout: 600)
            guard built.status == 0 else { return "busybox.sh failed (status \(built.status)): \(built.stderr)" }
            // The payload, the escape-attempt suite (EscapeTests) and the deploy tests' web app.
            for program in ["payload", "escape", "testapp"] {
                let source = repository.appendingPathComponent("Tests/IntegrationTests/Fixtures/\(program).c").path
                let cc = try Command.run("/usr/bin/gcc", ["-static", "-O2", "-o", rootfs + "/bin/" + program, source],
                                         timeout: 600)
                guard cc.status == 0 else { return "building the \(program) failed: \(cc.stderr)" }
            }
            // The deploy tests' load generator runs on the (stand-in) host, not in a container.
            let loadgen = repository.appendingPathComponent("Tests/IntegrationTests/Fixtures/loadgen.c").path
            let cc = try Command.run("/usr/bin/gcc", ["-static", "-O2", "-o", workspace.appendingPathComponent("loadgen").path, loadgen],
                                     timeout: 600)
            guard cc.status == 0 else { return "building the load generator failed: \(cc.stderr)" }
            return nil
        } catch {
            return "fixture setup failed: \(error)"
        }
    }

    private static func removeEverything() {
        let fixture = Fixture.shared
        try? FileManager.default.removeItem(at: fixture.workspace)
        for controller in ["memory", "cpu", "pids", "freezer", "devices", "cpuset", ""] {
            let base = controller.isEmpty ? "/sys/fs/cgroup" : "/sys/fs/cgroup/\(controller)"
            rmdir(base + "/" + fixture.cgroupParent)
        }
    }

    /// The deploy tests' open-loop load generator (Fixtures/loadgen.c), built static.
    var loadgen: String { workspace.appendingPathComponent("loadgen").path }

    /// A fresh state root for one test.
    func makeStateRoot() throws -> String {
        let dir = workspace.appendingPathComponent("state-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs `berth --root <fresh> GLOBAL run --cgroup-parent <ours> --rootfs <busybox> OPTIONS -- COMMAND`.
    func run(_ options: [String], _ command: [String], stdin: String? = nil, timeout: Double = 60,
             root: String? = nil, global: [String] = []) throws -> Command.Result {
        if let setupError { throw FixtureError(message: setupError) }
        let state = try root ?? makeStateRoot()
        let args = ["--root", state] + global + ["run", "--cgroup-parent", cgroupParent, "--rootfs", rootfs]
            + Self.networkDefault(options) + ["--"] + command
        return try Command.run(berth, args, stdin: stdin, timeout: timeout)
    }

    /// Runs `berth --root ROOT ARGS...` as given: any subcommand, nothing added. An image `run`
    /// must still pass `--cgroup-parent cgroupParent` itself.
    func berth(_ args: [String], root: String, stdin: String? = nil, timeout: Double = 60) throws -> Command.Result {
        if let setupError { throw FixtureError(message: setupError) }
        return try Command.run(berth, ["--root", root] + Self.offline(args), stdin: stdin, timeout: timeout)
    }

    /// A test that is not about networks runs its containers with `--network none`: the default
    /// bridge would make a bridge, rules and a subnet for every test's state root. The network
    /// suites say `--network` themselves (inside a stand-in host of their own).
    static func networkDefault(_ options: [String]) -> [String] {
        options.contains { $0 == "--network" || $0.hasPrefix("--network=") } ? options : ["--network", "none"] + options
    }

    /// `args` of a `run` or `create` with `networkDefault`'s rule applied; others as they are.
    static func offline(_ args: [String]) -> [String] {
        guard let command = args.first, command == "run" || command == "create" else { return args }
        return [command] + networkDefault(Array(args.dropFirst()))
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension Fixture {
    /// Why `--userns=auto` cannot run here, or nil when it can: its idmapped mounts need a
    /// filesystem (and kernel) that supports them, and the QEMU VM's test directory does not
    /// (mount_setattr answers EINVAL there). Asked once, with berth itself, on the fixture's root.
    static let userNamespacesUnavailable: String? = {
        let fixture = Fixture.shared
        if let setupError = fixture.setupError { return setupError }
        do {
            let state = try fixture.makeStateRoot()
            let subuid = state + "-subuid", subgid = state + "-subgid"
            for file in [subuid, subgid] { try "root:100000:65536\n".write(toFile: file, atomically: true, encoding: .utf8) }
            let r = try Command.run("/usr/bin/env", [
                "BERTH_SUBUID_FILE=\(subuid)", "BERTH_SUBGID_FILE=\(subgid)", fixture.berth, "--root", state, "run",
                "--cgroup-parent", fixture.cgroupParent, "--rootfs", fixture.rootfs, "--userns=auto", "--", "/bin/true",
            ])
            return r.status == 0 ? nil : "--userns=auto cannot run here: \(r.stderr)"
        } catch {
            return "--userns=auto cannot run here: \(error)"
        }
    }()
}
