import CommandLineParsing
import Foundation
import Testing
@testable import berth

/// `berth completion`: the scripts load in their shells, and bash's completes berth's commands,
/// options, paths and container names.
@Suite("shell completion") struct CompletionTests {
    /// A temporary directory with berth's script for `shell` and a stand-in `berth` that lists
    /// two containers (one under `--root /other`), removed when the value goes away.
    final class Scripts {
        let directory: String

        init(_ shell: ShellCompletion.Shell) throws {
            directory = NSTemporaryDirectory() + "berth-ut-completion-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try ShellCompletion.script(shell, for: Berth.spec, hints: CompletionCommand.hints)
                .write(toFile: script, atomically: false, encoding: .utf8)
            try """
                #!/bin/sh
                case "$*" in
                'ps -a --format {{.Names}}') printf 'web\\nworker\\n' ;;
                '--root /other ps -a --format {{.Names}}') echo other ;;
                esac

                """.write(toFile: program, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: program)
        }

        var script: String { directory + "/script" }
        var program: String { directory + "/berth" }

        deinit { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Runs `executable arguments` and returns its exit status and stdout.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// What bash's completion offers for the words (the last one is being completed), the
    /// program's name being the stand-in's.
    static func complete(_ words: [String], with scripts: Scripts) throws -> [String] {
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let line = "source '\(scripts.script)' && COMP_WORDS=('\(scripts.program)' \(quoted)) && COMP_CWORD=\(words.count)"
            + " && _berth && printf '%s\\n' \"${COMPREPLY[@]}\""
        let result = try run("/bin/bash", ["-c", line])
        #expect(result.status == 0, "bash failed on \(words)")
        return result.output.split(separator: "\n").map(String.init)
    }

    @Test(arguments: [
        (["con"], ["container"]),
        (["container", "l"], ["logs", "ls"]),
        (["system", ""], ["df", "prune", "info"]),
        (["run", "--netw"], ["--network", "--network-alias"]),
        (["container", "run", "--net"], ["--network", "--network-alias"]),
        (["--debug", "container", "prune", "-"], ["--force", "-f", "--help", "-h"]),
        // A value that is not a path is not completed.
        (["run", "--network", ""], []),
        (["run", "-m", ""], []),
        // After run's first positional word, the words are the container's command's.
        (["run", "-d", "--network", "none", "busybox", "-"], []),
        (["run", "-dm64m", "busybox", ""], []),
        // Container names from the program's list: every word of rm, only the first of rename.
        (["rm", "w"], ["web", "worker"]),
        (["container", "rm", "-f", "web", "wo"], ["worker"]),
        (["rename", "web", ""], []),
        // berth's options before the command (its state root) go to the listing too.
        (["--root", "/other", "container", "stop", ""], ["other"]),
        (["exec", "-it", ""], ["web", "worker"]),
        (["exec", "-it", "web", ""], []),
    ])
    func bashCompletes(words: [String], expected: [String]) throws {
        let scripts = try Scripts(.bash)
        #expect(Set(try Self.complete(words, with: scripts)) == Set(expected), "completing \(words)")
    }

    @Test("bash completes a path option's value with paths", arguments: [["export", "-o"], ["save", "--output"],
                                                                        ["load", "-i"], ["network", "create", "--config"]])
    func bashCompletesPaths(words: [String]) throws {
        let scripts = try Scripts(.bash)
        let offered = try Self.complete(words + [scripts.directory + "/scr"], with: scripts)
        #expect(offered == [scripts.script])
        // bash splits `--output=PATH` at the `=`.
        let spelledWithEquals = try Self.complete(words + ["=", scripts.directory + "/scr"], with: scripts)
        #expect(spelledWithEquals == [scripts.script])
    }

    @Test func bashCompletesDirectoriesOnlyForADirectoryOption() throws {
        let scripts = try Scripts(.bash)
        #expect(try Self.complete(["run", "--rootfs", scripts.directory + "/"], with: scripts).isEmpty)
        #expect(try Self.complete(["run", "--rootfs", scripts.directory], with: scripts) == [scripts.directory])
    }

    @Test("every visible command's options are offered", arguments: ShellCompletion.Shell.allCases)
    func everyCommandsOptionsAreInTheScript(shell: ShellCompletion.Shell) throws {
        let script = ShellCompletion.script(shell, for: Berth.spec, hints: CompletionCommand.hints)
        for command in Berth.spec.subcommands where !command.hidden {
            for option in command.options {
                #expect(script.contains(shell == .fish ? "-l '\(option.long)'" : "--\(option.long)"),
                        "--\(option.long) of \(command.name) missing from the \(shell) script")
            }
        }
        #expect(!script.contains("monitor-exit"))
    }

    static func installed(_ executable: String) -> Bool { FileManager.default.isExecutableFile(atPath: executable) }

    @Test("zsh reads its script", .enabled(if: installed("/usr/bin/zsh"), "zsh is not installed (.ci/install-deps)"))
    func zshSyntax() throws {
        let scripts = try Scripts(.zsh)
        #expect(try Self.run("/usr/bin/zsh", ["-n", scripts.script]).status == 0)
    }

    @Test("fish reads its script", .enabled(if: installed("/usr/bin/fish"), "fish is not installed (.ci/install-deps)"))
    func fishSyntax() throws {
        let scripts = try Scripts(.fish)
        #expect(try Self.run("/usr/bin/fish", ["-n", scripts.script]).status == 0)
    }

    @Test func unknownShellIsAUsageError() {
        let error = #expect(throws: UsageError.self) { try Berth.parse(["completion", "tcsh"]) }
        #expect(error?.message == "completion takes one shell: bash, zsh or fish (see berth completion --help)")
    }
}
