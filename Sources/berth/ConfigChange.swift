import CommandLineParsing
import ImageStore
import JSON

/// `--change`/`-c` for commit and import: one Dockerfile instruction applied to the new image's
/// config (CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL,
/// HEALTHCHECK), as Docker takes
/// them. CMD and ENTRYPOINT take the JSON form (`CMD ["sh","-c","x"]`) or the shell form
/// (`CMD echo hi`, run by /bin/sh -c).
struct ConfigChange {
    let apply: @Sendable (inout OCIImage.ExecutionConfig) -> Void

    static func parse(_ text: String) throws(UsageError) -> ConfigChange {
        let trimmed = text.drop(while: { $0 == " " })
        let keyword = trimmed.prefix(while: { $0 != " " && $0 != "\t" }).uppercased()
        let rest = String(trimmed.dropFirst(keyword.count).drop(while: { $0 == " " || $0 == "\t" }))
        guard !rest.isEmpty else { throw UsageError("--change \"\(text)\": \(keyword) needs a value") }
        switch keyword {
        case "CMD":
            let words = try command(rest, text)
            return ConfigChange { $0.cmd = words }
        case "ENTRYPOINT":
            let words = try command(rest, text)
            return ConfigChange { $0.entrypoint = words }
        case "ENV":
            let pairs = try keyValues(rest, text)
            return ConfigChange { config in
                var env = config.env ?? []
                for (name, value) in pairs {
                    env.removeAll { $0.hasPrefix(name + "=") }
                    env.append(name + "=" + value)
                }
                config.env = env
            }
        case "LABEL":
            let pairs = try keyValues(rest, text)
            return ConfigChange { config in
                var labels = config.labels ?? [:]
                for (name, value) in pairs { labels[name] = value }
                config.labels = labels
            }
        case "WORKDIR":
            guard rest.hasPrefix("/") else { throw UsageError("--change \"\(text)\": WORKDIR must be an absolute path") }
            return ConfigChange { $0.workingDir = rest }
        case "USER":
            return ConfigChange { $0.user = rest }
        case "STOPSIGNAL":
            return ConfigChange { $0.stopSignal = rest }
        case "HEALTHCHECK":
            let check = try healthcheck(rest, text)
            return ConfigChange { $0.healthcheck = check }
        case "EXPOSE":
            let ports = rest.split(separator: " ").map { $0.contains("/") ? String($0) : $0 + "/tcp" }
            for port in ports where UInt16(port.prefix(while: { $0 != "/" })) == nil {
                throw UsageError("--change \"\(text)\": \(port) is not a port number")
            }
            return ConfigChange { config in
                var exposed = config.exposedPorts ?? [:]
                for port in ports { exposed[port] = OCIImage.EmptyObject() }
                config.exposedPorts = exposed
            }
        case "VOLUME":
            let paths = rest.hasPrefix("[") ? try jsonArray(rest, text) : rest.split(separator: " ").map(String.init)
            return ConfigChange { config in
                var volumes = config.volumes ?? [:]
                for path in paths { volumes[path] = OCIImage.EmptyObject() }
                config.volumes = volumes
            }
        default:
            throw UsageError("--change \"\(text)\": unsupported instruction \(keyword); "
                             + "use CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR")
        }
    }

    /// The JSON form as it is; the shell form run by `/bin/sh -c`.
    static func command(_ rest: String, _ text: String) throws(UsageError) -> [String] {
        rest.hasPrefix("[") ? try jsonArray(rest, text) : ["/bin/sh", "-c", rest]
    }

    private static func jsonArray(_ rest: String, _ text: String) throws(UsageError) -> [String] {
        guard let value = try? JSON.parse(rest), case .array(let items) = value else {
            throw UsageError("--change \"\(text)\": the value is not a JSON array of strings")
        }
        var words: [String] = []
        for item in items {
            guard case .string(let word) = item else {
                throw UsageError("--change \"\(text)\": the value is not a JSON array of strings")
            }
            words.append(word)
        }
        return words
    }

    /// `NAME=value NAME2="two words"`, or the old `NAME value` form.
    private static func keyValues(_ rest: String, _ text: String) throws(UsageError) -> [(String, String)] {
        guard let firstEquals = rest.firstIndex(of: "="),
              !rest[..<firstEquals].contains(" ") else {
            let name = rest.prefix(while: { $0 != " " })
            let value = rest.dropFirst(name.count).drop(while: { $0 == " " })
            return [(String(name), String(value))]
        }
        var pairs: [(String, String)] = []
        var i = rest.startIndex
        while i < rest.endIndex {
            while i < rest.endIndex, rest[i] == " " { i = rest.index(after: i) }
            guard i < rest.endIndex else { break }
            guard let equals = rest[i...].firstIndex(of: "=") else {
                throw UsageError("--change \"\(text)\": expected NAME=value")
            }
            let name = String(rest[i..<equals])
            var value = ""
            var j = rest.index(after: equals)
            var quote: Character?
            while j < rest.endIndex {
                let c = rest[j]
                if let q = quote {
                    if c == q { quote = nil } else { value.append(c) }
                } else if c == "\"" || c == "'" {
                    quote = c
                } else if c == " " {
                    break
                } else {
                    value.append(c)
                }
                j = rest.index(after: j)
            }
            if quote != nil { throw UsageError("--change \"\(text)\": unterminated quote") }
            guard !name.isEmpty, !name.contains(" ") else { throw UsageError("--change \"\(text)\": expected NAME=value") }
            pairs.append((name, value))
            i = j
        }
        return pairs
    }
}
