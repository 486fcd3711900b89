/// One line of `berth diff`: a path a container added, changed or deleted relative to its image.
public struct LayerChange: Sendable, Equatable, CustomStringConvertible {
    /// Docker's letters, so scripts written for `docker diff` read ours.
    public enum Kind: String, Sendable {
        case added = "A"
        case changed = "C"
        case deleted = "D"
    }

    public let kind: Kind
    /// Absolute inside the container ("/etc/motd").
    public let path: String

    public init(_ kind: Kind, _ path: String) {
        self.kind = kind
        self.path = path
    }

    public var description: String { "\(kind.rawValue) \(path)" }
}
