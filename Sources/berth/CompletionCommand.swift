import CommandLineParsing

/// `berth completion bash|zsh|fish`: the shell's completion script, generated from berth's
/// command descriptions. Opens no state root.
struct CompletionCommand: BerthCommand {
    static let spec = CommandSpec(
        name: "completion", abstract: "Print the shell completion script for bash, zsh or fish.",
        discussion: """
            bash: berth completion bash > /etc/bash_completion.d/berth

            zsh: berth completion zsh > "${fpath[1]}/_berth"

            fish: berth completion fish > ~/.config/fish/completions/berth.fish
            """,
        usage: "bash|zsh|fish")

    /// What berth's descriptions do not say: which options take a path on the host, and how
    /// to list the containers a CONTAINER word can name.
    static let hints = ShellCompletion.Hints(
        paths: [("root", .directory), ("rootfs", .directory), ("output", .file), ("input", .file),
                ("config", .file), ("env-file", .file), ("label-file", .file)],
        words: [("CONTAINER", ["ps", "-a", "--format", "{{.Names}}"])])

    let shell: ShellCompletion.Shell

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        guard parsed.positionals.count == 1, let shell = ShellCompletion.Shell(rawValue: parsed.positionals[0]) else {
            throw UsageError("completion takes one shell: bash, zsh or fish (see berth completion --help)")
        }
        self.shell = shell
    }

    func run() throws -> Int32 {
        Output.print(ShellCompletion.script(shell, for: Berth.spec, hints: Self.hints))
        return 0
    }
}
