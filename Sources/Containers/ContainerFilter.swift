/// `ps --filter`: Docker's container filters. Filters of one key match when any of their values
/// does; filters of different keys must all match.
public struct ContainerFilter: Sendable, Equatable {
    /// key → values, in the order given.
    public private(set) var terms: [String: [String]] = [:]

    static let keys = ["status", "name", "label", "ancestor", "id", "exited"]
    static let statuses = ["created", "restarting", "running", "removing", "paused", "exited", "dead"]

    /// `flags`: each `--filter KEY=VALUE`. Refuses an unknown key, a value missing, a status or
    /// exit code that cannot be.
    public init(_ flags: [String]) throws(ContainerError) {
        for flag in flags {
            let parts = flag.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw ContainerError(.invalidArgument, "bad filter \"\(flag)\": give KEY=VALUE (keys: \(Self.keys.joined(separator: ", ")))")
            }
            let key = parts[0], value = parts[1]
            guard Self.keys.contains(key) else {
                throw ContainerError(.invalidArgument, "unknown filter \"\(key)\": use one of \(Self.keys.joined(separator: ", "))")
            }
            if key == "status", !Self.statuses.contains(value) {
                throw ContainerError(.invalidArgument, "unknown status \"\(value)\" in filter: use one of \(Self.statuses.joined(separator: ", "))")
            }
            if key == "exited", Int32(value) == nil {
                throw ContainerError(.invalidArgument, "filter exited=\(value): give an exit code")
            }
            terms[key, default: []].append(value)
        }
    }

    public var isEmpty: Bool { terms.isEmpty }

    /// Whether the filters ask about stopped containers (Docker then lists them without -a).
    public var selectsStopped: Bool { terms["status"] != nil || terms["exited"] != nil }

    /// Whether `record`, in `state`, passes every filter.
    public func matches(_ record: ContainerRecord, _ state: ContainerState) -> Bool {
        for (key, values) in terms {
            let matched = values.contains { value in
                switch key {
                case "status": return state.statusName == value
                // Docker matches a part of the name.
                case "name": return record.name.contains(value)
                case "id": return record.id.hasPrefix(value)
                case "label":
                    let parts = value.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                    guard let label = record.config.labels[parts[0]] else { return false }
                    return parts.count == 1 || label == parts[1]
                case "ancestor": return Self.isAncestor(value, of: record)
                case "exited": return state.status == .exited && state.exitCode.map(String.init) == value
                default: return false
                }
            }
            if !matched { return false }
        }
        return true
    }

    /// The image as named (`busybox:1.35`), its repository without a tag (`busybox`), or a prefix
    /// of its image id (`sha256:…` or the hex alone).
    private static func isAncestor(_ value: String, of record: ContainerRecord) -> Bool {
        let named = record.config.image
        if named == value { return true }
        if !value.contains(":"), named.hasPrefix(value + ":") || named.hasPrefix(value + "@") { return true }
        let id = record.image.hasPrefix("sha256:") ? String(record.image.dropFirst(7)) : record.image
        let wanted = value.hasPrefix("sha256:") ? String(value.dropFirst(7)) : value
        return wanted.count >= 4 && id.hasPrefix(wanted)
    }
}
