import CommandLineParsing
import Containers
import ImageStore

/// `berth container prune`: every container that is not running goes.
struct PruneContainers: BerthCommand {
    static let spec = CommandSpec(
        name: "prune", abstract: "Remove all stopped containers.",
        options: [.flag("force", short: "f", help: "Accepted for Docker's sake: berth does not ask for confirmation.")])

    let global: GlobalOptions

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        if let extra = parsed.positionals.first { throw UsageError("container prune takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        let report = engine.pruneContainers()
        printDeleted("Containers", report.removed)
        Output.print("Total reclaimed space: \(humanSize(report.reclaimedBytes))")
        return 0
    }
}

/// `berth system df`: what images, containers, volumes and the build cache take, and what a
/// prune would free.
struct SystemDiskUsage: BerthCommand {
    static let spec = CommandSpec(name: "df", abstract: "Show the disk space images, containers and volumes use.")

    let global: GlobalOptions

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        if let extra = parsed.positionals.first { throw UsageError("system df takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        let usage = try engine.diskUsage()
        var table = Table(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"])
        for (kind, line) in [("Images", usage.images), ("Containers", usage.containers), ("Local Volumes", usage.volumes),
                             ("Build Cache", usage.buildCache)] {
            // Docker's share: of the kind's bytes, what a prune frees.
            let percent = line.bytes > 0 ? Int((Double(line.reclaimableBytes) * 100 / Double(line.bytes)).rounded()) : 0
            table.add([kind, String(line.total), String(line.active), humanSize(line.bytes),
                       "\(humanSize(line.reclaimableBytes)) (\(percent)%)"])
        }
        Output.print(table.render())
        return 0
    }
}

/// `berth system prune`: stopped containers, unused networks, dangling images (every unused one
/// with -a), and with --volumes the anonymous volumes no container uses.
struct PruneSystem: BerthCommand {
    static let spec = CommandSpec(
        name: "prune", abstract: "Remove stopped containers, unused networks, dangling images (and volumes).",
        options: [
            .flag("all", short: "a", help: "Remove every image no container uses, not only dangling ones."),
            .flag("volumes", help: "Remove the anonymous volumes no container uses too."),
            .flag("force", short: "f", help: "Accepted for Docker's sake: berth does not ask for confirmation."),
        ])

    let global: GlobalOptions
    let all: Bool
    let volumes: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        all = parsed.flag("all")
        volumes = parsed.flag("volumes")
        if let extra = parsed.positionals.first { throw UsageError("system prune takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        let containers = engine.pruneContainers()
        printDeleted("Containers", containers.removed)
        printDeleted("Networks", try engine.pruneNetworks())
        var reclaimed = containers.reclaimedBytes
        if volumes {
            let removed = try engine.pruneVolumes(all: false)
            printDeleted("Volumes", removed.removed)
            reclaimed += removed.reclaimedBytes
        }
        // Docker's system prune takes the build cache too.
        let images = try engine.images().prune(all: all, buildCache: .also, inUse: engine.manifestsInUse)
        printDeleted("Images", images.removed.map { removed in
            switch removed {
            case .untagged(let reference): "untagged: \(reference)"
            case .deleted(let id): "deleted: \(id)"
            }
        })
        printDeletedDownloads(images.deletedDownloads)
        reclaimed += images.freedBytes
        Output.print("Total reclaimed space: \(humanSize(reclaimed))")
        return 0
    }
}

/// Docker's prune block: a heading, one name a line, a blank line; nothing when nothing went.
private func printDeleted(_ kind: String, _ names: [String]) {
    guard !names.isEmpty else { return }
    Output.print("Deleted \(kind):")
    for name in names { Output.print(name) }
    Output.print("")
}
