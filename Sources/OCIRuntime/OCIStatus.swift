/// Where a container is in the OCI runtime's life cycle (the runtime spec's `status`), plus
/// `paused`, which runc reports too.
public enum OCIStatus: String, Sendable, Equatable {
    /// `create` is under way: the state directory exists, the record does not yet.
    case creating
    /// The process exists in its namespaces and cgroup and waits, before its command, for `start`.
    case created
    case running
    /// The cgroup is frozen (`pause`).
    case paused
    /// The process has ended (or never got past `create`).
    case stopped
}
