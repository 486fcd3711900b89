import JSON

/// Writes an edited image config back over the JSON it was read from, keeping what berth's
/// `OCIImage.Configuration` does not model (Docker's `container_config`, `ArgsEscaped`, …): a
/// commit on an image another tool built must not silently drop them.
enum ConfigurationEdit {
    /// The members `OCIImage.Configuration` encodes, and those of its `config` object.
    static let modelled: Set<String> = ["created", "author", "architecture", "os", "config", "rootfs", "history"]
    static let modelledExecution: Set<String> = ["User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes",
                                                 "WorkingDir", "Labels", "StopSignal", "Healthcheck", "Shell", "OnBuild"]

    /// `original` with every modelled member replaced by `edited`'s (removed when `edited` has
    /// none), in the original's order; members only `edited` has come after.
    static func merge(original: JSONValue, edited: JSONValue) -> JSONValue {
        merge(original, edited, modelled: modelled, nested: ["config": modelledExecution])
    }

    private static func merge(_ original: JSONValue, _ edited: JSONValue, modelled: Set<String>,
                              nested: [String: Set<String>]) -> JSONValue {
        guard let old = original.object, let new = edited.object else { return edited }
        var result: [(key: String, value: JSONValue)] = []
        for member in old {
            guard modelled.contains(member.key) else {
                result.append(member)
                continue
            }
            guard let replacement = new.last(where: { $0.key == member.key })?.value else { continue }
            if let inner = nested[member.key] {
                result.append((member.key, merge(member.value, replacement, modelled: inner, nested: [:])))
            } else {
                result.append((member.key, replacement))
            }
        }
        for member in new where !result.contains(where: { $0.key == member.key }) {
            result.append(member)
        }
        return .object(result)
    }
}
