import Foundation

/// One berth-oci test's world: its own state root (`--root`), a bundle whose config.json the
/// test edits (the shared busybox root, read-only, by absolute path), a cgroupsPath under the
/// fixture's cgroup parent, and files for the container's output. `removeAll` deletes every
/// container left in the root (`delete --force`) and the directories.
final class OCIBundleFixture {
    let fixture: Fixture
    let directory: String
    let root: String
    let bundle: String
    /// config.json as a JSON object, written by `writeSpec`.
    var spec: [String: Any]

    var berthOCI: String { URL(fileURLWithPath: fixture.berth).deletingLastPathComponent().appendingPathComponent("berth-oci").path }

    init(_ fixture: Fixture) throws {
        if let setupError = fixture.setupError { throw FixtureError(message: setupError) }
        self.fixture = fixture
        directory = try fixture.makeStateRoot()
        root = directory + "/oci-root"
        bundle = directory + "/bundle"
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        spec = [:]
        let made = try Command.run(berthOCI, ["spec", "--bundle", bundle])
        guard made.status == 0 else { throw FixtureError(message: "berth-oci spec failed: \(made.stderr)") }
        let data = try Data(contentsOf: URL(fileURLWithPath: bundle + "/config.json"))
        spec = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        var process = spec["process"] as? [String: Any] ?? [:]
        process["terminal"] = false
        spec["process"] = process
        spec["root"] = ["path": fixture.rootfs, "readonly": true]
    }

    /// The cgroup the container `id` gets: below the fixture's parent, which the fixture removes.
    func cgroupsPath(_ id: String) -> String { "/\(fixture.cgroupParent)/oci-\(id)" }

    /// Sets process.args and the cgroupsPath for `id`, and writes config.json.
    func writeSpec(id: String, args: [String], edit: (inout [String: Any]) -> Void = { _ in }) throws {
        var process = spec["process"] as? [String: Any] ?? [:]
        process["args"] = args
        spec["process"] = process
        var linux = spec["linux"] as? [String: Any] ?? [:]
        linux["cgroupsPath"] = cgroupsPath(id)
        spec["linux"] = linux
        edit(&spec)
        let data = try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted])
        try data.write(to: URL(fileURLWithPath: bundle + "/config.json"))
    }

    /// `berth-oci --root ROOT ARGS`, its output captured: for commands that leave no process behind.
    func oci(_ args: [String], global: [String] = [], timeout: Double = 30) throws -> Command.Result {
        try Command.run(berthOCI, ["--root", root] + global + args, timeout: timeout)
    }

    /// `berth-oci create` (or `run -d`): the container keeps berth-oci's stdio, so they are files
    /// here, never the pipes `Command.run` reads to their end. The container's output lands in
    /// `output(of:)`.
    func create(_ id: String, _ extra: [String] = [], command: String = "create") throws -> Command.Result {
        let out = directory + "/\(id).out"
        let script = "exec \"$0\" \"$@\" < /dev/null > '\(out)' 2>&1"
        let result = try Command.run("/bin/sh", ["-c", script, berthOCI, "--root", root, command, "--bundle", bundle]
                                         + extra + [id])
        return Command.Result(status: result.status, stdout: output(of: id), stderr: output(of: id))
    }

    func output(of id: String) -> String {
        (try? String(contentsOfFile: directory + "/\(id).out", encoding: .utf8)) ?? ""
    }

    /// `state ID` as a JSON object; nil when the command failed.
    func state(_ id: String) throws -> [String: Any]? {
        let result = try oci(["state", id])
        guard result.status == 0, let data = result.stdout.data(using: .utf8) else { return nil }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    func status(_ id: String) throws -> String? { try state(id)?["status"] as? String }

    /// The container's cgroup directory for `controller` (v1) or the unified one (v2).
    func cgroupDirectory(_ id: String, controller: String) -> String {
        Host.isCgroupV2 ? "/sys/fs/cgroup" + cgroupsPath(id) : "/sys/fs/cgroup/\(controller)" + cgroupsPath(id)
    }

    func removeAll() {
        if let ids = try? FileManager.default.contentsOfDirectory(atPath: root) {
            for id in ids { _ = try? oci(["delete", "--force", id]) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
