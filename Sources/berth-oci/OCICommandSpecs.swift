import CommandLineParsing

/// berth-oci's command line as data: runc's commands and the options containerd, podman
/// (conmon) and people give them. Options runc has that change nothing here (`--no-pivot`,
/// `--no-new-keyring`) are accepted; those that would are refused where they are read.
enum OCICommandSpecs {
    static let bundle = OptionSpec.value("bundle", short: "b", valueName: "DIR",
                                         help: "The bundle directory (config.json and the root filesystem); default: the current directory")
    static let pidFile = OptionSpec.value("pid-file", valueName: "FILE", help: "Write the container process's pid to FILE")
    static let consoleSocket = OptionSpec.value("console-socket", valueName: "PATH",
                                                help: "A unix socket the terminal's master end is sent on (process.terminal)")
    static let preserveFDs = OptionSpec.value("preserve-fds", valueName: "N", help: "Pass N extra fds after stdio (only 0)")
    static let createOptions = [
        bundle, pidFile, consoleSocket, preserveFDs,
        .flag("no-pivot", help: "Accepted for runc's callers; berth-oci always uses pivot_root"),
        .flag("no-new-keyring", help: "Accepted for runc's callers; berth-oci makes no session keyring"),
    ]

    static let root = CommandSpec(
        name: "berth-oci",
        abstract: "berth's OCI runtime: runc's command line on berth's launcher, for podman, containerd and Kubernetes",
        usage: "[GLOBAL OPTIONS] COMMAND [OPTIONS] ID",
        options: [
            .value("root", valueName: "DIR", help: "Where containers' state is kept (default /run/berth-oci)"),
            .value("log", valueName: "FILE", help: "Append log lines to FILE instead of stderr"),
            .value("log-format", valueName: "text|json", help: "The log lines' form (default text)"),
            .flag("debug", help: "Log debug messages"),
            .flag("systemd-cgroup", help: "Refused: berth-oci drives cgroupfs only"),
            .value("rootless", valueName: "true|false|auto", help: "Accepted; berth-oci runs as root (false)"),
        ],
        subcommands: [
            CommandSpec(name: "spec", abstract: "Write a default config.json (runc's) into the bundle directory",
                        usage: "[OPTIONS]", options: [bundle, .flag("rootless", help: "Refused: berth-oci makes no rootless spec")]),
            CommandSpec(name: "create", abstract: "Create a container, held before its command until start",
                        usage: "[OPTIONS] ID", options: createOptions),
            CommandSpec(name: "start", abstract: "Run a created container's command", usage: "ID"),
            CommandSpec(name: "run", abstract: "Create and start a container; wait for it unless --detach",
                        usage: "[OPTIONS] ID",
                        options: createOptions + [.flag("detach", short: "d", help: "Return once the container has started"),
                                                  .flag("keep", help: "Keep the container's state after it exits")]),
            CommandSpec(name: "state", abstract: "Print a container's state as the runtime spec's JSON", usage: "ID"),
            CommandSpec(name: "list", abstract: "List the containers", usage: "[OPTIONS]",
                        options: [.value("format", short: "f", valueName: "table|json", help: "Output format (default table)"),
                                  .flag("quiet", short: "q", help: "Print the ids only")]),
            CommandSpec(name: "kill", abstract: "Send a signal to a container's process (default SIGTERM)",
                        usage: "[OPTIONS] ID [SIGNAL]",
                        options: [.flag("all", short: "a", help: "Signal every process in the container's cgroup")]),
            CommandSpec(name: "delete", abstract: "Remove a container: its process, cgroup and state",
                        usage: "[OPTIONS] ID",
                        options: [.flag("force", short: "f", help: "Kill a running container first")]),
            CommandSpec(name: "ps", abstract: "List the processes of a container", usage: "[OPTIONS] ID",
                        options: [.value("format", short: "f", valueName: "table|json", help: "Output format (default table)")]),
            CommandSpec(name: "pause", abstract: "Freeze every process of a container", usage: "ID"),
            CommandSpec(name: "resume", abstract: "Thaw a paused container", usage: "ID"),
            CommandSpec(name: "exec", abstract: "Run a process in a running container",
                        usage: "[OPTIONS] ID [COMMAND [ARG...]]",
                        options: [
                            .value("process", short: "p", valueName: "FILE", help: "The process as a spec's process JSON"),
                            .flag("detach", short: "d", help: "Return once the process has started"),
                            .flag("tty", short: "t", help: "Give the process a terminal (with --console-socket)"),
                            consoleSocket, pidFile, preserveFDs,
                            .value("cwd", valueName: "DIR", help: "The working directory"),
                            .repeatable("env", short: "e", valueName: "NAME=VALUE", help: "Set an environment variable"),
                            .value("user", short: "u", valueName: "UID[:GID]", help: "The user to run as"),
                        ],
                        stopsAtFirstPositional: true),
            CommandSpec(name: "update", abstract: "Change a running container's resource limits", usage: "[OPTIONS] ID",
                        options: [
                            .value("resources", short: "r", valueName: "FILE", help: "linux.resources as JSON ('-': stdin)"),
                            .value("memory", valueName: "BYTES", help: "The memory limit"),
                            .value("cpu-share", valueName: "SHARES", help: "The CPU shares (relative weight, 2 to 262144)"),
                            .value("cpu-quota", valueName: "MICROSECONDS", help: "CPU time per period"),
                            .value("cpu-period", valueName: "MICROSECONDS", help: "The CPU period (default 100000)"),
                            .value("pids-limit", valueName: "N", help: "The most processes"),
                        ]),
            CommandSpec(name: "features", abstract: "Print what berth-oci supports, as runc's features JSON", usage: ""),
        ])
}
