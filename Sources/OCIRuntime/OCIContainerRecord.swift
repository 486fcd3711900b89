import JSON
import Runtime

/// What `berth-oci` keeps of a container between its commands, in `<root>/<id>/state.json`:
/// enough to find its process (pid and start time, so a reused pid is never taken for it), its
/// cgroup and its bundle. Its status is never stored: it is read from the process, the exec
/// fifo and the cgroup each time (`OCIContainer.status`).
public struct OCIContainerRecord: Codable, Sendable, Equatable {
    public var id: String
    public var pid: Int32
    /// /proc/PID/stat's starttime (clock ticks since boot) of the container's process.
    public var startTicks: Int64
    /// The bundle directory, absolute.
    public var bundle: String
    /// The root filesystem, absolute.
    public var rootfs: String
    public var cgroup: String
    /// RFC 3339, when `create` finished.
    public var created: String
    public var annotations: [String: String]?
    /// The spec's hooks; `start` runs the startContainer and poststart ones, `delete` the poststop ones.
    public var hooks: OCIRuntimeSpec.Hooks?

    public init(id: String, pid: Int32, startTicks: Int64, bundle: String, rootfs: String, cgroup: String,
                created: String, annotations: [String: String]?, hooks: OCIRuntimeSpec.Hooks?) {
        self.id = id
        self.pid = pid
        self.startTicks = startTicks
        self.bundle = bundle
        self.rootfs = rootfs
        self.cgroup = cgroup
        self.created = created
        self.annotations = annotations
        self.hooks = hooks
    }

    /// The runtime spec's state (what `state` prints and hooks read on stdin), with runc's
    /// extra fields (rootfs, created, owner) that containerd and podman read.
    public func stateJSON(status: OCIStatus) -> JSONValue {
        var fields: [(key: String, value: JSONValue)] = [
            ("ociVersion", .string(OCIRuntime.ociVersion)), ("id", .string(id)),
            ("pid", .number(JSONNumber(status == .stopped ? 0 : pid))), ("status", .string(status.rawValue)),
            ("bundle", .string(bundle)), ("rootfs", .string(rootfs)), ("created", .string(created)),
            ("owner", .string("")),
        ]
        if let annotations, !annotations.isEmpty {
            fields.append(("annotations", .object(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        return .object(fields)
    }
}
