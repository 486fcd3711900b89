/// What one command's part of the command line said: the options given, in order, with their
/// values, and the positional words. The typed accessors turn a value into what the program
/// wants, or into an error that names the option.
///
/// Plain arrays, no Dictionary or Set: a hashed collection makes the Swift runtime look up a
/// `Hashable` conformance by scanning the binary's conformance records at start-up.
public struct ParsedArguments: Sendable {
    /// One option as given: its long name and, for a value option, the value; a flag's is nil,
    /// or "true" or "false" when it was spelt `--name=false`.
    public struct Given: Sendable, Equatable {
        public let option: String
        public let value: String?
    }

    public let command: CommandSpec
    /// Every option given, in order (a short or `=` spelling is recorded under its long name).
    public internal(set) var given: [Given] = []
    /// The positional words, in order; for a command that stops at its first positional word,
    /// that word and everything after it.
    public internal(set) var positionals: [String] = []
    /// The words this command was given, as they were (for the last command of a line; a
    /// container's record keeps its `run` words to start it again).
    public internal(set) var words: [String] = []

    init(command: CommandSpec) {
        self.command = command
    }

    /// Whether the flag `--name` is on: given alone or as `--name=true`; off when absent or
    /// given as `--name=false`. The last spelling counts.
    public func flag(_ name: String) -> Bool {
        flag(name, default: false)
    }

    /// The flag `--name`, `defaultValue` when it was not given (`--pause`, on unless `--pause=false`).
    public func flag(_ name: String, default defaultValue: Bool) -> Bool {
        assert(declares(name) { $0 == .flag }, "\(name) is not a flag of \(command.name)")
        guard let last = given.last(where: { $0.option == name }) else { return defaultValue }
        return last.value != "false"
    }

    /// The value of `--name` (the last one when it was given more than once), nil when absent.
    public func string(_ name: String) -> String? {
        assert(declares(name) { if case .value = $0 { true } else { false } }, "\(name) is not a value option of \(command.name)")
        return given.last { $0.option == name }?.value
    }

    /// The value of `--name`; absent, it is an error.
    public func required(_ name: String) throws(UsageError) -> String {
        guard let value = string(name) else { throw UsageError("missing --\(name)") }
        return value
    }

    /// Every value of the repeatable option `--name`, in order.
    public func strings(_ name: String) -> [String] {
        assert(declares(name) { if case .repeatable = $0 { true } else { false } },
               "\(name) is not a repeatable option of \(command.name)")
        return given.compactMap { $0.option == name ? $0.value : nil }
    }

    /// The value of `--name` as a whole number, nil when absent.
    public func int64(_ name: String) throws(UsageError) -> Int64? {
        guard let text = string(name) else { return nil }
        guard let value = Int64(text) else { throw UsageError("--\(name): \"\(text)\" is not a whole number") }
        return value
    }

    /// The value of `--name` as a number (`0.5`, `1e3`; also `nan` and `inf`, which the caller
    /// range-checks), nil when absent.
    public func double(_ name: String) throws(UsageError) -> Double? {
        guard let text = string(name) else { return nil }
        guard let value = Double(text) else { throw UsageError("--\(name): \"\(text)\" is not a number") }
        return value
    }

    /// A typo in an accessor's option name would silently read "absent"; debug builds stop there.
    private func declares(_ name: String, _ kind: (OptionSpec.Kind) -> Bool) -> Bool {
        command.options.contains { $0.long == name && kind($0.kind) }
    }
}
