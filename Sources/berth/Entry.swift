import CommandLineParsing
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
        Glibc.exit(run(Array(CommandLine.arguments.dropFirst())))
    }

    /// Runs berth on its arguments and returns the exit code.
    static func run(_ arguments: [String]) -> Int32 {
        do {
            switch try Berth.parse(arguments) {
            case .help(let text):
                Output.writeLine(STDOUT_FILENO, text)
                return 0
            case .run(let command):
                return try command.run()
            }
        } catch let error as UsageError {
            Output.error(error.message)
            return Output.exitCode(for: error)
        } catch let error as RuntimeError {
            Output.error(error.description)
            return Output.exitCode(for: error)
        } catch {
            Output.error(String(describing: error))
            return 125
        }
    }
}
