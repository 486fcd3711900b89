import CommandLineParsing
import Containers
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `berth update`: new memory, CPU and pids limits for containers, running or not.
struct UpdateContainers: BerthCommand {
    static let spec = CommandSpec(
        name: "update", abstract: "Change the memory, CPU and pids limits of containers.",
        discussion: """
            A running container's cgroup gets the new limits at once; every container keeps \
            them for its next start. A memory limit below what a running container uses is \
            refused and nothing changes.
            """,
        usage: "[OPTIONS] CONTAINER [CONTAINER...]",
        options: [
            .value("memory", short: "m", valueName: "size", help: "Memory limit (e.g. 64m); swap is limited to the same."),
            .value("cpus", valueName: "n", help: "CPU limit in cores (e.g. 0.5)."),
            .value("cpu-shares", short: "c", valueName: "n",
                   help: "CPU shares: the container's weight against others when CPU is scarce (2 to 262144)."),
            .value("pids-limit", valueName: "n", help: "Maximum number of processes and threads."),
        ])

    let global: GlobalOptions
    let names: [String]
    let update: ResourceUpdate

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        var update = ResourceUpdate()
        if let memory = parsed.string("memory") {
            guard let bytes = try? ByteSize.parse(memory) else {
                throw UsageError("--memory \(memory) is not a size: give a number with b, k, m or g (e.g. 64m)")
            }
            // run's bounds: under 6 MiB a container is killed as it starts.
            if bytes < Run.minimumMemory { throw UsageError("--memory \(memory) is below the smallest limit, 6m") }
            update.memoryBytes = bytes
        }
        if let cpus = try parsed.double("cpus") {
            let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
            guard cpus >= 0.01, cpus <= 1024 else { throw UsageError("--cpus must be a number of cores from 0.01 to 1024") }
            if cores > 0, cpus > Double(cores) { throw UsageError("--cpus \(cpus) is more than this machine has (\(cores))") }
            update.cpus = cpus
        }
        update.cpuShares = try Run.cpuShares(parsed)
        if let pids = try parsed.int64("pids-limit") {
            guard pids >= 1, pids <= Run.maximumPids else {
                throw UsageError("--pids-limit must be from 1 to \(Run.maximumPids)")
            }
            update.pidsLimit = pids
        }
        if update.isEmpty { throw UsageError("update needs --memory, --cpus, --cpu-shares or --pids-limit") }
        if names.isEmpty { throw UsageError("update needs at least one container name or id") }
        self.update = update
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        return forEach(names) { name in try engine.update(try engine.find(name), update) }
    }
}
