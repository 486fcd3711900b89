import CommandLineParsing
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// berth's entry point. Every failure ends in one line on stderr and Docker's exit codes: 125
/// when `run` itself failed (126/127 when its command could not run), 1 when another command
/// failed.
@main
enum Entry {
    static func main() {
        // A closed stdout (`berth ps | head`) must not kill berth halfway through a write to the
        // store: writes to it fail with EPIPE instead, and the output code stops there.
        signal(SIGPIPE, SIG_IGN)
        // Each byte kept: a container's arguments need not be UTF-8 (`ArgumentBytes`).
        Glibc.exit(run(ArgumentBytes.commandLineArguments()))
    }

    /// Runs berth on its arguments and returns the exit code.
    static func run(_ arguments: [String]) -> Int32 {
        let invocation: Berth.Invocation
        do {
            invocation = try Berth.parse(arguments)
        } catch {
            Output.error(error)
            return Output.exitCode(for: error, failureCode: 125)
        }
        // The commands that supervise a process take the signals a terminal sends (to forward
        // them) from a signalfd, so they are blocked before that process exists. The others keep
        // the default actions: Ctrl-C ends `logs -f` or a long import like SIGKILL would, which
        // the store survives by design.
        if invocation.supervisesProcess { ContainerSupervisor.blockSignals() }
        var failureCode: Int32 = 125
        do {
            switch invocation {
            case .help(let text):
                Output.writeLine(STDOUT_FILENO, text)
                return 0
            case .run(let command):
                return try command.run()
            case .command(let command):
                failureCode = type(of: command).failureCode
                return try command.run()
            }
        } catch {
            Output.error(error)
            return Output.exitCode(for: error, failureCode: failureCode)
        }
    }
}
