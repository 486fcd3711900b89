/// A shell completion script generated from a command's description: at each level its
/// subcommands and its options (long and short); the value of an option completed only when it
/// is a path on this machine; positional words completed from a command's output when the
/// usage line names them (`CONTAINER`).
public enum ShellCompletion {
    public enum Shell: String, Sendable, CaseIterable {
        case bash, zsh, fish
    }

    /// What the description alone does not say.
    public struct Hints: Sendable {
        public enum PathKind: Sendable { case file, directory }
        /// Options, by long name, whose value is a path on this machine.
        public let paths: [(option: String, kind: PathKind)]
        /// A usage line's placeholder ("CONTAINER") and the program's arguments that print, one a
        /// line, the words it can be (`["ps", "-a", "--format", "{{.Names}}"]`).
        public let words: [(placeholder: String, arguments: [String])]

        public init(paths: [(option: String, kind: PathKind)], words: [(placeholder: String, arguments: [String])]) {
            self.paths = paths
            self.words = words
        }
    }

    /// The script for `shell` completing `spec`, the program's root command.
    public static func script(_ shell: Shell, for spec: CommandSpec, hints: Hints) -> String {
        let nodes = Node.all(below: spec, hints: hints)
        switch shell {
        case .bash: return BashCompletion.script(program: spec.name, nodes: nodes, hints: hints)
        case .zsh: return ZshCompletion.script(program: spec.name, nodes: nodes, hints: hints)
        case .fish: return FishCompletion.script(program: spec.name, nodes: nodes, hints: hints)
        }
    }

    /// One command of the tree, flattened, with what its completion needs.
    struct Node {
        /// The command's path from the root, the root's name first ("berth container ls").
        let path: String
        let spec: CommandSpec
        /// The visible subcommands' names.
        let commands: [String]
        /// Every spelling of every option, `--help` and `-h` included.
        let options: [String]
        /// The spellings of the options that take a value.
        let valueOptions: [String]
        let fileOptions: [String]
        let directoryOptions: [String]
        /// The placeholder of the positional words completed from the program's output, if any.
        let words: String?
        /// Whether every positional word is one (`CONTAINER [CONTAINER...]`) or only the first.
        let wordsRepeat: Bool

        static func all(below spec: CommandSpec, path: String? = nil, hints: Hints) -> [Node] {
            let path = path ?? spec.name
            let visible = spec.subcommands.filter { !$0.hidden }
            return [Node(path: path, spec: spec, hints: hints)]
                + visible.flatMap { all(below: $0, path: path + " " + $0.name, hints: hints) }
        }

        init(path: String, spec: CommandSpec, hints: Hints) {
            self.path = path
            self.spec = spec
            commands = spec.subcommands.filter { !$0.hidden }.map(\.name)
            func spellings(_ option: OptionSpec) -> [String] { ["--" + option.long] + (option.short.map { ["-\($0)"] } ?? []) }
            options = (spec.options + [.flag("help", short: "h", help: "")]).flatMap(spellings)
            valueOptions = spec.options.filter(\.takesValue).flatMap(spellings)
            func paths(_ kind: Hints.PathKind) -> [String] {
                spec.options.filter { option in
                    option.takesValue && hints.paths.contains { $0.option == option.long && $0.kind == kind }
                }.flatMap(spellings)
            }
            fileOptions = paths(.file)
            directoryOptions = paths(.directory)
            // The usage line's first positional word, past the options: `[OPTIONS] CONTAINER [CONTAINER...]`.
            let usageWords = spec.usage.split(separator: " ").map(String.init)
            let first = usageWords.first { !$0.hasPrefix("-") && !$0.hasPrefix("[-") && $0 != "[OPTIONS]" }
            let placeholder = first.map { String($0.filter { $0 != "[" && $0 != "]" && $0 != "." }) }
            let known = placeholder.flatMap { name in hints.words.first { $0.placeholder == name }?.placeholder }
            words = spec.hasSubcommands ? nil : known
            wordsRepeat = known.map { usageWords.contains("[\($0)...]") } ?? false
        }
    }

    /// `text` as one single-quoted shell word (bash, zsh and fish read it alike when it holds
    /// no quote; a quote is closed, escaped and reopened).
    static func quoted(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// Words as one quoted, space-separated list.
    static func list(_ words: [String]) -> String {
        quoted(words.joined(separator: " "))
    }

    /// A name safe as part of a shell function's name ("CONTAINER", "berth").
    static func identifier(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}
