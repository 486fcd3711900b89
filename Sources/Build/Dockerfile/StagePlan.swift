/// A Dockerfile cut into its stages: the ARGs before the first FROM (the meta args FROM lines
/// may use), and for each FROM its base, name, platform and instructions. `--target` picks the
/// last stage to build; only the stages it needs (FROM or COPY --from another stage) are built.
public struct StagePlan: Sendable {
    public struct Stage: Sendable {
        /// 0-based position in the Dockerfile.
        public var index: Int
        /// `AS name`, lower-cased; nil when the stage has none.
        public var name: String?
        /// The FROM instruction's image, meta args expanded: a reference, `scratch`, or an
        /// earlier stage's name.
        public var base: String
        public var platform: String?
        public var from: Instruction
        public var instructions: [Instruction]
    }

    public var stages: [Stage]
    /// The meta args' values: their defaults with the `--build-arg`s over them.
    public var metaArgs: [String: String]

    /// `buildArgs` are the `--build-arg` values.
    public init(_ dockerfile: Dockerfile, buildArgs: [String: String]) throws {
        metaArgs = [:]
        stages = []
        for instruction in dockerfile.instructions {
            let expansion = WordExpansion(variables: metaArgs, escape: dockerfile.escape)
            switch instruction.name {
            case "ARG" where stages.isEmpty:
                for (name, value) in try ArgDeclaration.parse(instruction, expansion: expansion, file: dockerfile.file) {
                    metaArgs[name] = buildArgs[name] ?? value ?? metaArgs[name]
                }
            case "FROM":
                let words = try wrap(dockerfile.file, instruction) { try expansion.words(instruction.text) }
                var name: String?
                if words.count == 3, words[1].lowercased() == "as" {
                    name = words[2].lowercased()
                } else if words.count != 1 {
                    throw BuildError.dockerfile(dockerfile.file, line: instruction.line,
                                                "FROM takes an image and optionally AS NAME, as in FROM busybox AS build")
                }
                if let name, stages.contains(where: { $0.name == name }) {
                    throw BuildError.dockerfile(dockerfile.file, line: instruction.line, "duplicate stage name \(name)")
                }
                let platform = try instruction.flag("platform").map { flag in try wrap(dockerfile.file, instruction) { try expansion.word(flag) } }
                stages.append(Stage(index: stages.count, name: name, base: words[0], platform: platform, from: instruction,
                                    instructions: []))
            default:
                guard !stages.isEmpty else {
                    throw BuildError.dockerfile(dockerfile.file, line: instruction.line,
                                                "\(instruction.name) before the first FROM: a Dockerfile starts with FROM "
                                                    + "(only ARG may come before it)")
                }
                stages[stages.count - 1].instructions.append(instruction)
            }
        }
        guard !stages.isEmpty else {
            throw BuildError(.invalidArgument, "\(dockerfile.file): the Dockerfile has no FROM instruction")
        }
    }

    /// The stage `--target` names (the last one when nil).
    public func target(_ name: String?) throws -> Stage {
        guard let name else { return stages[stages.count - 1] }
        guard let stage = stage(named: name) else {
            let names = stages.compactMap(\.name)
            throw BuildError(.invalidArgument, "target stage \"\(name)\" could not be found; the stages are: "
                             + (names.isEmpty ? "none with a name" : names.joined(separator: ", ")))
        }
        return stage
    }

    /// A stage by its `AS` name or its index.
    public func stage(named name: String) -> Stage? {
        if let stage = stages.first(where: { $0.name == name.lowercased() }) { return stage }
        if let number = Int(name), stages.indices.contains(number) { return stages[number] }
        return nil
    }

    /// The stages `target` needs, in Dockerfile order, itself last.
    public func stagesNeeded(for target: Stage) -> [Stage] {
        var needed = Set<Int>()
        var pending = [target.index]
        while let index = pending.popLast() {
            guard needed.insert(index).inserted else { continue }
            let stage = stages[index]
            var references = [stage.base]
            references += stage.instructions.compactMap { $0.name == "COPY" ? $0.flag("from") : nil }
            for reference in references {
                if let other = self.stage(named: reference), other.index < index { pending.append(other.index) }
            }
        }
        return stages.filter { needed.contains($0.index) }
    }
}

/// `ARG NAME[=default] ...`: the names and defaults declared, defaults expanded.
enum ArgDeclaration {
    static func parse(_ instruction: Instruction, expansion: WordExpansion, file: String) throws -> [(String, String?)] {
        let words = try wrap(file, instruction) { try KeyValueWords.split(instruction.text, escape: expansion.escape) }
        return try words.map { word in
            guard let equals = word.firstIndex(of: "=") else { return (word, nil) }
            let name = String(word[..<equals])
            guard !name.isEmpty else { throw BuildError.dockerfile(file, line: instruction.line, "ARG names no variable in \(word)") }
            let value = try wrap(file, instruction) { try expansion.word(String(word[word.index(after: equals)...])) }
            return (name, value)
        }
    }
}

/// Splits `KEY=value KEY2="a b"` at unquoted white space, keeping quotes and escapes for the
/// expansion of each value.
enum KeyValueWords {
    static func split(_ text: String, escape: Character) throws -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var escaped = false
        for c in text {
            if escaped {
                current.append(c)
                escaped = false
                continue
            }
            if c == escape, quote != "'" {
                current.append(c)
                escaped = true
                continue
            }
            if let q = quote {
                if c == q { quote = nil }
                current.append(c)
                continue
            }
            if c == "'" || c == "\"" {
                quote = c
                current.append(c)
                continue
            }
            if c == " " || c == "\t" {
                if !current.isEmpty { words.append(current) }
                current = ""
                continue
            }
            current.append(c)
        }
        guard quote == nil else { throw BuildError(.invalidArgument, "a quote is never closed") }
        if !current.isEmpty { words.append(current) }
        return words
    }
}

/// Runs `body`, giving an error it throws the Dockerfile's name and the instruction's line.
func wrap<T>(_ file: String, _ instruction: Instruction, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as BuildError {
        throw located(error, file, instruction)
    }
}

/// `error` with the Dockerfile's name, the instruction's line and name in front, once.
func located(_ error: BuildError, _ file: String, _ instruction: Instruction) -> BuildError {
    guard !error.message.hasPrefix(file + ":"), instruction.line > 0 else { return error }
    return BuildError(error.code, "\(file):\(instruction.line): \(instruction.name) \(error.message)", errno: error.errno,
                      step: error.step)
}
