import CommandLineParsing
import Logging
import OCIRuntime
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// berth-oci's entry point: parse, call `OCIRuntime`, print. A failure is one line on stderr
/// and, with `--log`, a log line (JSON with `--log-format json`) where containerd and podman
/// look for it; exit 125 for a command line that cannot run, 1 for a failed command.
@main
enum Entry {
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        exit(run(ArgumentBytes.commandLineArguments()))
    }

    static func run(_ arguments: [String]) -> Int32 {
        let levels: [ParsedArguments]
        do {
            switch try OCICommandSpecs.root.parse(arguments) {
            case .help(let text):
                OCIOutput.writeLine(STDOUT_FILENO, text)
                return 0
            case .commands(let parsed):
                levels = parsed
            }
        } catch {
            OCIOutput.writeLine(STDERR_FILENO, "berth-oci: \(error.message)")
            return 125
        }
        let global = levels[0]
        let logger: Logger
        do {
            logger = try OCILogging.setUp(global)
        } catch {
            OCIOutput.writeLine(STDERR_FILENO, "berth-oci: \(error)")
            return 125
        }
        guard levels.count > 1 else {
            OCIOutput.writeLine(STDERR_FILENO, "berth-oci: a command is missing: berth-oci --help lists them")
            return 125
        }
        do {
            if global.flag("systemd-cgroup") {
                throw RuntimeError(.unsupported, "--systemd-cgroup is not supported: berth-oci drives cgroupfs only "
                                   + "(podman: --cgroup-manager cgroupfs; containerd: SystemdCgroup = false)")
            }
            let runtime = OCIRuntime(root: OCIStateRoot(path: global.string("root") ?? OCIStateRoot.defaultPath), logger: logger)
            return try OCICommands.run(levels[1], runtime: runtime)
        } catch let usage as UsageError {
            logger.error("\(usage.message)")
            OCILogging.echo(usage.message)
            return 125
        } catch {
            logger.error("\(error)")
            OCILogging.echo("\(error)")
            return 1
        }
    }
}
