import JSON

/// `berth build --print=instructions --format json`: the parsed instructions for other tools,
/// each with its stage, name, flags, arguments as written, form (exec or shell), heredocs and
/// line.
public enum DockerfilePrint {
    public static func json(_ dockerfile: Dockerfile, plan: StagePlan) -> JSONValue {
        var items: [JSONValue] = []
        for stage in plan.stages {
            for instruction in [stage.from] + stage.instructions {
                var members: [(key: String, value: JSONValue)] = [
                    ("stage", .string(stage.name ?? String(stage.index))),
                    ("name", .string(instruction.name)),
                    ("flags", .object(instruction.flags.map { ($0.name, JSONValue.string($0.value)) })),
                    ("arguments", .string(instruction.text)),
                    ("form", .string(instruction.json == nil ? "shell" : "exec")),
                    ("line", .number(JSONNumber(instruction.line))),
                ]
                if let json = instruction.json { members.append(("json", .array(json.map(JSONValue.string)))) }
                if !instruction.heredocs.isEmpty {
                    members.append(("heredocs", .array(instruction.heredocs.map { doc in
                        .object([("name", .string(doc.name)), ("body", .string(doc.body)), ("expands", .bool(doc.expands))])
                    })))
                }
                items.append(.object(members))
            }
        }
        return .object([("file", .string(dockerfile.file)), ("instructions", .array(items))])
    }
}

/// `berth build --check`: Docker's build checks that need no build, as one line each.
public enum DockerfileCheck {
    public static func warnings(_ dockerfile: Dockerfile) -> [String] {
        var warnings: [String] = []
        var stageNames: [String: Int] = [:]
        for instruction in dockerfile.instructions {
            let at = "\(dockerfile.file):\(instruction.line)"
            switch instruction.name {
            case "CMD" where instruction.json == nil, "ENTRYPOINT" where instruction.json == nil:
                warnings.append("\(at): JSONArgsRecommended: JSON arguments recommended for \(instruction.name) to prevent unintended "
                                + "behavior related to OS signals")
            case "ENV", "LABEL":
                if let first = instruction.text.split(separator: " ").first, !first.contains("=") {
                    warnings.append("\(at): LegacyKeyValueFormat: \"\(instruction.name) key=value\" should be used instead of the "
                                    + "legacy \"\(instruction.name) key value\" format")
                }
            case "MAINTAINER":
                warnings.append("\(at): MaintainerDeprecated: the MAINTAINER instruction is deprecated, use a label instead")
            case "FROM":
                let words = instruction.text.split(separator: " ")
                if words.count == 3 {
                    let name = words[2].lowercased()
                    if let previous = stageNames[name] {
                        warnings.append("\(at): DuplicateStageName: duplicate stage name \(name), first defined on line \(previous)")
                    }
                    stageNames[name] = instruction.line
                    if (words[1] == "as") != (instruction.original.hasPrefix("from") || instruction.original.hasPrefix("From")) {
                        warnings.append("\(at): FromAsCasing: 'as' and 'FROM' keywords' casing do not match")
                    }
                }
            default:
                break
            }
            if let word = instruction.original.split(separator: " ").first, String(word) != instruction.name,
               String(word) != instruction.name.lowercased() {
                warnings.append("\(at): ConsistentInstructionCasing: instruction \(word) should be written \(instruction.name)")
            }
        }
        return warnings
    }
}
