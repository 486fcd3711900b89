import Containers

/// What a service's instances get beyond their image, command, environment and checks: their
/// mounts, labels, user and directory, and their names on the network. A plain instance's
/// request and a proxied one's are both made through `apply`, so the two cannot drift apart;
/// a proxied version keeps them in its record, so a rollback goes back to its own.
public struct InstanceSettings: Codable, Sendable, Equatable {
    /// `-v` arguments: named volumes by their names on the host (the instances of a service
    /// share them), binds, anonymous volumes.
    public var volumes: [String] = []
    /// `--tmpfs` targets.
    public var tmpfs: [String] = []
    /// The file's labels; berth's and Compose's own are added over them.
    public var labels: [String: String] = [:]
    public var workingDir: String?
    public var user: String?
    public var hostname: String?
    public var useInit = false
    public var readOnly = false
    /// The names other containers on the service's network reach an instance by.
    public var networkAliases: [String] = []

    public init() {}

    /// Sets these on `request`, leaving the rest of it as it is.
    func apply(to request: inout ContainerRequest) {
        request.volumes = volumes
        request.tmpfs = tmpfs
        request.labels.merge(labels) { _, given in given }
        request.workdir = workingDir
        request.user = user
        request.hostname = hostname
        request.useInit = useInit
        request.readOnly = readOnly
        request.networkAliases = networkAliases
    }
}
