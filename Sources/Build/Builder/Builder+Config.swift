import Containers
import ImageStore

/// The instructions that change only the image's config: ENV, LABEL, EXPOSE, VOLUME, USER,
/// STOPSIGNAL, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER; and ARG, which changes only
/// the stage's variables.
extension Builder {
    mutating func configInstruction(_ instruction: Instruction, state: inout StageState) throws {
        let expansion = WordExpansion(variables: state.variables, escape: request.dockerfile.escape)
        switch instruction.name {
        case "ENV":
            let pairs = try keyValues(instruction, expansion: expansion)
            let text = pairs.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            try metadata("ENV " + text, state: &state) { state in
                for (name, value) in pairs { state.setEnv(name, value) }
            }
        case "LABEL":
            let pairs = try keyValues(instruction, expansion: expansion)
            let text = pairs.map { "\($0.0)=\(Self.quoted($0.1))" }.joined(separator: " ")
            try metadata("LABEL " + text, state: &state) { state in
                var labels = state.execution.labels ?? [:]
                for (name, value) in pairs { labels[name] = value }
                state.execution.labels = labels
            }
        case "MAINTAINER":
            let name = instruction.text
            try metadata("MAINTAINER " + name, state: &state) { $0.config.author = name }
        case "EXPOSE":
            let ports = try expansion.words(instruction.text).flatMap(Self.exposedPorts)
            try metadata("EXPOSE " + ports.joined(separator: " "), state: &state) { state in
                var exposed = state.execution.exposedPorts ?? [:]
                for port in ports { exposed[port] = OCIImage.EmptyObject() }
                state.execution.exposedPorts = exposed
            }
        case "VOLUME":
            let paths = try instruction.json ?? expansion.words(instruction.text)
            guard !paths.isEmpty, !paths.contains("") else { throw BuildError(.invalidArgument, "VOLUME specified can not be an empty string") }
            try metadata("VOLUME " + Self.jsonText(paths), state: &state) { state in
                var volumes = state.execution.volumes ?? [:]
                for path in paths { volumes[path] = OCIImage.EmptyObject() }
                state.execution.volumes = volumes
            }
        case "USER":
            let user = try expansion.word(instruction.text)
            try metadata("USER " + user, state: &state) { $0.execution.user = user }
        case "STOPSIGNAL":
            let signal = try expansion.word(instruction.text)
            guard ContainerSignalName.isValid(signal) else {
                throw BuildError(.invalidArgument, "invalid signal \(signal): give a name (SIGTERM, TERM) or a number")
            }
            try metadata("STOPSIGNAL " + signal, state: &state) { $0.execution.stopSignal = signal }
        case "CMD":
            let command = instruction.json ?? state.shell + [instruction.text]
            try metadata("CMD " + Self.jsonText(command), state: &state) { state in
                state.execution.cmd = command
                state.cmdSet = true
            }
        case "ENTRYPOINT":
            let command = instruction.json ?? state.shell + [instruction.text]
            try metadata("ENTRYPOINT " + Self.jsonText(command), state: &state) { state in
                state.execution.entrypoint = command
                // Docker's rule: a CMD of the base image is dropped by a new ENTRYPOINT.
                if !state.cmdSet { state.execution.cmd = nil }
            }
        case "SHELL":
            guard let shell = instruction.json, !shell.isEmpty else {
                throw BuildError(.invalidArgument, "requires the arguments to be a non-empty JSON array")
            }
            try metadata("SHELL " + Self.jsonText(shell), state: &state) { $0.execution.shell = shell }
        case "HEALTHCHECK":
            let check = try Self.healthcheck(instruction, shell: state.shell)
            let flags = instruction.flags.map { "--\($0.name)=\($0.value) " }.joined()
            try metadata("HEALTHCHECK " + flags + instruction.text, state: &state) { $0.execution.healthcheck = check }
        default:
            throw BuildError(.unsupported, "\(instruction.name) is not supported")
        }
    }

    /// `ARG NAME[=default]`: the value is the `--build-arg` when given, else the default, else
    /// the meta arg of the same name.
    mutating func declareArgs(_ instruction: Instruction, state: inout StageState) throws {
        let expansion = WordExpansion(variables: state.variables, escape: request.dockerfile.escape)
        for (name, defaultValue) in try ArgDeclaration.parse(instruction, expansion: expansion, file: request.dockerfile.file) {
            usedBuildArgs.insert(name)
            let value = request.buildArgs[name] ?? defaultValue ?? metaArgs[name]
            state.args.removeAll { $0.name == name }
            state.args.append((name, value))
        }
        // An ARG makes no image: the values it gives enter the key of every RUN after it.
    }

    /// `ENV`'s and `LABEL`'s pairs: `KEY=value ...`, or the old `KEY value` form (ENV only).
    func keyValues(_ instruction: Instruction, expansion: WordExpansion) throws -> [(String, String)] {
        let words = try KeyValueWords.split(instruction.text, escape: request.dockerfile.escape)
        if instruction.name == "ENV", let first = words.first, !first.contains("=") {
            let rest = instruction.text.trimmingLeadingSpace().dropFirst(first.count).trimmingLeadingSpace()
            guard !rest.isEmpty else { throw BuildError(.invalidArgument, "ENV \(first) needs a value (ENV NAME=value)") }
            return [(first, try expansion.word(rest))]
        }
        return try words.map { word in
            guard let equals = word.firstIndex(of: "="), equals != word.startIndex else {
                throw BuildError(.invalidArgument, "\(word) is not of the form KEY=value")
            }
            let key = try expansion.word(String(word[..<equals]))
            return (key, try expansion.word(String(word[word.index(after: equals)...])))
        }
    }

    /// `80` → `80/tcp`; `53/udp` as it is; a range `7000-7002` each of its ports, as Docker
    /// stores them; a bad port is an error.
    static func exposedPorts(_ text: String) throws -> [String] {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        let proto = parts.count > 1 ? parts[1].lowercased() : "tcp"
        let bounds = (parts.first ?? "").split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { Int($0) }
        guard let low = bounds.first ?? nil, let high = bounds.count == 2 ? bounds[1] : low, (1...65535).contains(low),
              (low...65535).contains(high), ["tcp", "udp", "sctp"].contains(proto) else {
            throw BuildError(.invalidArgument, "invalid port \(text): give a number from 1 to 65535 or a range of them, "
                             + "optionally /tcp, /udp or /sctp")
        }
        return (low...high).map { "\($0)/\(proto)" }
    }

    static func jsonText(_ strings: [String]) -> String {
        "[" + strings.map { "\"" + $0.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "]"
    }

    static func healthcheck(_ instruction: Instruction, shell: [String]) throws -> OCIImage.Healthcheck {
        let text = instruction.text
        let word = text.prefix { $0 != " " && $0 != "\t" }.uppercased()
        if word == "NONE" {
            guard text.trimmingSpace().count == 4 else { throw BuildError(.invalidArgument, "HEALTHCHECK NONE takes no arguments") }
            return OCIImage.Healthcheck(test: ["NONE"])
        }
        guard word == "CMD" else { throw BuildError(.invalidArgument, "HEALTHCHECK takes CMD followed by a command, or NONE") }
        let rest = text.dropFirst(3).trimmingLeadingSpace()
        guard !rest.isEmpty else { throw BuildError(.invalidArgument, "HEALTHCHECK CMD needs a command") }
        var check = OCIImage.Healthcheck(test: rest.hasPrefix("[") ? Dockerfile.jsonArray(rest).map { ["CMD"] + $0 } : nil)
        if check.test == nil { check.test = ["CMD-SHELL", rest] }
        check.interval = try instruction.flag("interval").map { try Self.duration($0, flag: "interval") }
        check.timeout = try instruction.flag("timeout").map { try Self.duration($0, flag: "timeout") }
        check.startPeriod = try instruction.flag("start-period").map { try Self.duration($0, flag: "start-period") }
        if let retries = instruction.flag("retries") {
            guard let count = Int(retries), count >= 0 else { throw BuildError(.invalidArgument, "--retries=\(retries) is not a count") }
            check.retries = count
        }
        return check
    }
}

extension Builder {
    /// A HEALTHCHECK flag's duration, as Go (and `berth run --health-*`) reads one: `30s`, `1m30s`.
    static func duration(_ text: String, flag: String) throws -> Int64 {
        guard !text.isEmpty else { throw BuildError(.invalidArgument, "--\(flag) needs a duration such as 30s") }
        guard let nanoseconds = GoDuration.parse(text) else {
            throw BuildError(.invalidArgument, "--\(flag)=\(text) is not a duration: give one such as 30s, 1m30s or 500ms")
        }
        return nanoseconds
    }
}

/// Signal names STOPSIGNAL accepts.
enum ContainerSignalName {
    static let names: Set<String> = ["HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
                                     "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
                                     "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"]

    static func isValid(_ text: String) -> Bool {
        if let number = Int(text) { return (1...64).contains(number) }
        let upper = text.uppercased()
        let name = upper.hasPrefix("SIG") ? String(upper.dropFirst(3)) : upper
        return names.contains(name) || name.hasPrefix("RTMIN") || name.hasPrefix("RTMAX")
    }
}
