/// A deploy in progress, on disk (`compose/<project>/journal/<service>.json`) from its first
/// step to its last: which version it moves to, which slots it has moved, and the step it was at.
/// A berth killed mid-deploy leaves it; the next deploy of the service finds it and first puts
/// every slot back on a running, healthy instance in HAProxy's rotation (`ProxyDeployer.recover`).
public struct DeployJournal: Codable, Sendable, Equatable {
    public var from: ProxiedService
    public var to: ProxiedService
    /// "deploying", or "rolling back" once a new instance failed.
    public var phase: String
    /// The slots moved to `to` so far.
    public var moved: [String]
    /// The slot being moved and its step ("drain", "maint", "stop", "start", "probe", "address",
    /// "checks", "ready").
    public var slot: String?
    public var step: String?
}
