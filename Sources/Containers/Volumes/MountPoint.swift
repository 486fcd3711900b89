import JSON

/// One of a container's mounts as its record keeps it and `inspect` shows it: Docker's `Mounts`
/// entry. Volumes are found through these (which containers use a volume, which anonymous
/// volumes `rm -v` removes).
public struct MountPoint: Sendable, Equatable {
    /// "bind", "volume" or "tmpfs".
    public var type: String
    /// A volume's name ("" otherwise).
    public var name: String
    /// The host path (a volume's data directory; "" for a tmpfs).
    public var source: String
    public var destination: String
    /// "local" for a volume ("" otherwise).
    public var driver: String
    /// Docker's mode text: "z" for a volume, the `-v` modes given for a bind.
    public var mode: String
    public var readWrite: Bool
    /// A bind's propagation ("rprivate" unless asked for); "" otherwise.
    public var propagation: String
    /// A volume made for this container (berth's addition): `rm -v` and `run --rm` remove it.
    public var isAnonymous: Bool

    public init(type: String, name: String = "", source: String, destination: String, driver: String = "",
                mode: String = "", readWrite: Bool, propagation: String = "", isAnonymous: Bool = false) {
        self.type = type
        self.name = name
        self.source = source
        self.destination = destination
        self.driver = driver
        self.mode = mode
        self.readWrite = readWrite
        self.propagation = propagation
        self.isAnonymous = isAnonymous
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [("Type", .string(type))]
        if type == "volume" { members.append(("Name", .string(name))) }
        members += [("Source", .string(source)), ("Destination", .string(destination))]
        if type == "volume" { members.append(("Driver", .string(driver))) }
        members += [("Mode", .string(mode)), ("RW", .bool(readWrite)), ("Propagation", .string(propagation))]
        if isAnonymous { members.append(("BerthAnonymous", .bool(true))) }
        return .object(members)
    }

    init?(json: JSONValue) {
        guard let type = json["Type"]?.string, let destination = json["Destination"]?.string else { return nil }
        self.init(type: type, name: json["Name"]?.string ?? "", source: json["Source"]?.string ?? "",
                  destination: destination, driver: json["Driver"]?.string ?? "", mode: json["Mode"]?.string ?? "",
                  readWrite: json["RW"]?.bool ?? true, propagation: json["Propagation"]?.string ?? "",
                  isAnonymous: json["BerthAnonymous"]?.bool ?? false)
    }
}
