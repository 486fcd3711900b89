import Containers
import ImageStore
import Runtime
#if canImport(Glibc)
import Glibc
#endif

extension Run {
    /// run's options as the engine's request.
    var request: ContainerRequest {
        var request = ContainerRequest(root: rootfs.map { .directory($0) } ?? .image(image ?? ""))
        request.name = name
        request.autoRemove = autoRemove
        request.restart = restart
        request.logMaxSize = logMaxSize
        request.logMaxFiles = logMaxFiles
        request.entrypoint = entrypoint
        request.interactive = interactive
        request.tty = tty
        request.hostname = hostname
        request.env = env
        request.labels = labels
        request.workdir = workdir
        request.user = user
        request.memory = memory
        request.cpus = cpus
        request.cpuShares = cpuShares
        request.pidsLimit = pidsLimit
        request.readOnly = readOnly
        request.network = network
        request.networkAliases = networkAliases
        request.ipAddress = ipAddress
        request.publish = publish
        request.publishAll = publishAll
        request.userns = userns
        request.useInit = useInit
        request.capAdd = capAdd
        request.capDrop = capDrop
        request.privileged = privileged
        request.securityOpt = securityOpt
        request.volumes = volume
        request.mounts = mount
        request.tmpfs = tmpfs
        request.devices = device
        request.ulimits = ulimit
        request.cgroupParent = cgroupParent
        request.command = command
        request.healthCheck = healthCheck
        return request
    }

    /// The checked launch configuration a `--rootfs` run gets (for `--debug` and tests).
    func makeConfig() throws -> ContainerConfig { try request.directoryLaunchConfig() }

    /// Runs the container and returns berth's exit code: the command's.
    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.removeLeftovers()
        let created = try createPulling(engine, sync: detach ? .deferred : .atLaunch)
        if detach {
            do {
                try engine.startDetached(created)
            } catch {
                if autoRemove {
                    try? engine.store.remove(created.record)
                    engine.removeAnonymousVolumes(of: created.record)
                }
                throw error
            }
            Output.print(created.record.id)
            return 0
        }
        if global.debug {
            Output.writeLine(2, "container \(created.record.shortID): \(created.config.args.joined(separator: " "))")
            for (i, op) in engine.plan(for: created.config, cgroupParent: cgroupParent).enumerated() {
                Output.writeLine(2, "  \(i): \(op)")
            }
        }
        let outcome = try engine.runForeground(created, interactive: interactive)
        if outcome.oomKilled {
            let limit = outcome.memoryLimit.map { " (limit \(ByteSize.describe($0)))" } ?? ""
            Output.error("killed: out of memory\(limit)")
        }
        return outcome.exitCode
    }
}

extension Run {
    /// `engine.create` with `--pull`'s policy: `always` pulls first; `missing` pulls when the
    /// create finds no such image and tries once more (so a run of a present image costs nothing
    /// more); `never` does neither. Pull progress goes to stderr: stdout is the container's.
    func createPulling(_ engine: ContainerEngine, sync: ContainerStore.CreationSync) throws -> CreatedContainer {
        // An image id (`sha256:…`, or 64 hex characters) names an image of this store only, as in
        // Docker: there is nothing to pull by it.
        guard let image, rootfs == nil, pullPolicy != .never, let name = try? ImageName.parse(image),
              let reference = name.reference, name.idPrefix?.utf8.count != 64 else {
            return try engine.create(request, sync: sync)
        }
        let store = try ImageStore(root: global.stateRoot)
        if pullPolicy == .always {
            _ = try pullFlags.pull(reference, into: store, display: .automatic, output: STDERR_FILENO)
            return try engine.create(request, sync: sync)
        }
        do {
            return try engine.create(request, sync: sync)
        } catch let error as BerthError where error.code == .notFound && !store.hasImage(image) {
            Output.writeLine(STDERR_FILENO, "Unable to find image '\(reference)' locally")
            _ = try pullFlags.pull(reference, into: store, display: .automatic, output: STDERR_FILENO)
            return try engine.create(request, sync: sync)
        }
    }
}

/// `run --pull`.
enum PullPolicy: String, Sendable {
    case missing, always, never
}
