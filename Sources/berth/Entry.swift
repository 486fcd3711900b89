import ArgumentParser
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// berth's entry point. Signals are blocked before anything else runs (see
/// `ContainerSupervisor.blockSignals`), and every failure ends in one line on stderr and
/// Docker's exit codes: 125 when berth itself failed, 126/127 when the command could not run.
@main
enum Entry {
    static func main() {
        ContainerSupervisor.blockSignals()
        do {
            var command = try Berth.parseAsRoot()
            try command.run()
        } catch let exit as ExitCode {
            Glibc.exit(exit.rawValue)
        } catch let error as RuntimeError {
            Output.error(error.description)
            Glibc.exit(Output.exitCode(for: error))
        } catch {
            // Help and version requests are "errors" to the parser but end successfully.
            if Berth.exitCode(for: error) == .success { Berth.exit(withError: error) }
            Output.error(Berth.message(for: error))
            Glibc.exit(125)
        }
        Glibc.exit(0)
    }
}

struct Berth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "berth",
        abstract: "Run applications in isolated containers.",
        subcommands: [Run.self]
    )

    /// Options for every command, given before it (`berth --root DIR run …`), as with docker.
    @OptionGroup var global: GlobalOptions
}
