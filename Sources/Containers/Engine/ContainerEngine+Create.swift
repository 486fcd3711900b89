import ImageStore
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// A container just created: its record, and the configuration to launch it with (for an image,
/// with the overlay over the image's layers).
public struct CreatedContainer: Sendable {
    public var record: ContainerRecord
    public var config: ContainerConfig
    /// False when created with `.deferred` sync: `startDetached(_:)` makes it durable.
    public var isDurable: Bool = true
    /// False when created with `.atLaunch` sync: `runForeground` writes its launch spec and
    /// record once its process exists.
    public var isRecorded: Bool = true
    /// The image store's shared lock, held until the record names the image (an image container
    /// created with `.atLaunch` sync): until then a prune waits rather than take its layers.
    public var imageLock: StoreLock?
}

extension ContainerEngine {
    /// Creates a container: checks and resolves the request once (the image's config, `-e NAME`,
    /// the user, the limits), then writes its launch spec and record. Nothing is created when
    /// the request is invalid. The container is `created` until it is started. With `.deferred`
    /// sync the files reach the disk in `startDetached(_:)`, while the container launches; with
    /// `.atLaunch` a container removed at its end has its files written by `runForeground` (an
    /// image's container holds the image store's lock until then; a kept one is recorded at once).
    public func create(_ request: ContainerRequest, sync: ContainerStore.CreationSync = .immediate) throws -> CreatedContainer {
        if request.userns == .auto, !request.devices.isEmpty {
            throw ContainerError(.unsupported, "--device cannot be combined with --userns=auto yet: a user namespace may not make "
                                 + "device nodes; run the container with --userns=host")
        }
        return try withUserNamespace(request.userns ?? .host) { userNamespace in
            try create(request, userNamespace: userNamespace, sync: sync)
        }
    }

    private func create(_ request: ContainerRequest, userNamespace: UserNamespace?,
                        sync: ContainerStore.CreationSync) throws -> CreatedContainer {
        let id = ContainerID.generate()
        switch request.root {
        case .directory(let directory):
            var config = try request.directoryLaunchConfig(id: id)
            config.userNamespace = userNamespace
            let claim = try attachMounts(request, imageVolumes: [], layers: nil, to: &config)
            defer { claim.release() }
            let env = EnvironmentFlags.applying(EnvironmentFlags.resolve(request.env), to: [])
            var record = makeRecord(id: id, request: request, image: directory, path: config.args[0],
                                    args: Array(config.args.dropFirst()),
                                    settings: settings(request, hostname: config.hostname ?? "", env: env,
                                                       cmd: request.command, entrypoint: nil, defaults: nil),
                                    resources: config.resources, userNamespace: userNamespace)
            record.rootfs = config.rootfs
            record.mounts = claim.points
            // A --rootfs container is the run of its command: nothing of it is kept.
            record.hostConfig.autoRemove = true
            try applyNetwork(request, id: id, exposedPorts: [], to: &config, host: &record.hostConfig)
            return CreatedContainer(record: try creatingVolumes(claim) { try store.create(record, launch: config, sync: sync) },
                                    config: config, isDurable: sync == .immediate, isRecorded: sync != .atLaunch)
        case .image(let reference):
            // The record is written while the image store's lock is held: from then on a prune
            // sees the container and keeps its layers. Recorded at launch, only a container
            // removed at its end: a kept one that fails to start stays `created`, as Docker's.
            guard sync == .atLaunch, request.autoRemove else {
                let imageSync = sync == .atLaunch ? .immediate : sync
                return try images().resolve(reference) { resolved in
                    try create(request, reference: reference, id: id, image: resolved, userNamespace: userNamespace, sync: imageSync)
                }
            }
            let (resolved, lock) = try images().resolveKeepingLock(reference)
            var created = try create(request, reference: reference, id: id, image: resolved, userNamespace: userNamespace,
                                     sync: .atLaunch)
            created.isRecorded = false
            created.imageLock = lock
            return created
        }
    }

    private func create(_ request: ContainerRequest, reference: String, id: String,
                        image resolved: ResolvedImage, userNamespace: UserNamespace?,
                        sync: ContainerStore.CreationSync) throws -> CreatedContainer {
        let defaults = resolved.config.config
        // --entrypoint replaces the image's entrypoint and drops its Cmd (Docker's rule).
        let entry: [String]? = request.entrypoint.map { $0.isEmpty ? [] : [$0] } ?? defaults?.entrypoint
        let cmd: [String]? = !request.command.isEmpty ? request.command : (request.entrypoint == nil ? defaults?.cmd : nil)
        let args = (entry ?? []) + (cmd ?? [])
        guard let path = args.first else {
            throw ContainerError(.invalidArgument,
                                 "no command to run: image \(reference) has no Cmd or Entrypoint; give one after the image name")
        }
        // The image's Env with the -e flags over it: the container's own variables (Docker's
        // Config.Env, which a commit passes on), without the per-run defaults such as HOSTNAME.
        let env = EnvironmentFlags.applying(EnvironmentFlags.resolve(request.env), to: defaults?.env ?? [])
        let settings = settings(request, hostname: request.hostname ?? String(id.prefix(12)), env: env, cmd: cmd,
                                entrypoint: entry, defaults: defaults)
        // The container's own layer is empty until it runs: the image's files are what -u reads.
        var config = try request.launchConfig(
            id: id, rootfs: store.rootfsDirectory(of: id), args: args,
            image: ImageDefaults(env: env, workingDir: settings.workingDir, user: settings.user),
            fileRoots: resolved.layerDirectories)
        config.userNamespace = userNamespace
        let claim = try attachMounts(request, imageVolumes: defaults?.volumes.map { Array($0.keys) } ?? [],
                                     layers: resolved.layerDirectories, to: &config)
        defer { claim.release() }
        var record = makeRecord(id: id, request: request, image: reference, path: path, args: Array(args.dropFirst()),
                                settings: settings, resources: config.resources, userNamespace: userNamespace)
        record.image = resolved.configDigest.description
        record.imageManifest = resolved.manifestDigest.description
        try applyNetwork(request, id: id, exposedPorts: defaults?.exposedPorts.map { Array($0.keys) } ?? [], to: &config,
                         host: &record.hostConfig)
        record.mounts = claim.points
        let created = try creatingVolumes(claim) { try store.create(record, launch: config, sync: sync) }
        // The container's root looks up its upper dir through the container's directory (the
        // files in it stay root's own, 0600).
        if userNamespace != nil, chmod(store.directory(of: id), 0o711) != 0 {
            throw ContainerError.system("cannot open the container's directory to its user namespace")
        }
        config.overlay = overlay(for: created, layers: resolved.layerDirectories)
        return CreatedContainer(record: created, config: config, isDurable: sync == .immediate)
    }

    private func settings(_ request: ContainerRequest, hostname: String, env: [String], cmd: [String]?,
                          entrypoint: [String]?, defaults: OCIImage.ExecutionConfig?) -> ContainerSettings {
        let image: String = switch request.root {
        case .image(let reference): reference
        case .directory(let directory): directory
        }
        var settings = ContainerSettings(
            image: image, hostname: hostname, user: request.user ?? defaults?.user ?? "", env: env, cmd: cmd,
            entrypoint: entrypoint, workingDir: request.workdir ?? defaults?.workingDir ?? "", tty: request.tty,
            openStdin: request.interactive, stopSignal: request.stopSignal ?? defaults?.stopSignal)
        settings.healthcheck = HealthCheck.resolved(image: defaults?.healthcheck, flags: request.healthCheck)
        settings.labels = request.labels
        return settings
    }

    /// The record of a container whose launch configuration is already checked: its limits are
    /// those of `resources`, not parsed again.
    private func makeRecord(id: String, request: ContainerRequest, image: String, path: String, args: [String],
                            settings: ContainerSettings, resources: ResourceLimits,
                            userNamespace: UserNamespace?) -> ContainerRecord {
        var host = HostSettings(
            autoRemove: request.autoRemove, binds: request.volumes,
            memory: resources.memoryBytes ?? 0,
            nanoCpus: Int64((request.cpus ?? 0) * 1e9), pidsLimit: request.pidsLimit ?? 0,
            readonlyRootfs: request.readOnly, networkMode: request.network, privileged: request.privileged,
            cgroupParent: request.cgroupParent,
            cgroup: launcher(cgroupParent: request.cgroupParent).cgroupPath(for: id).relative,
            restartPolicy: request.restart)
        host.cpuShares = Int64(resources.cpuShares ?? 0)
        host.logMaxSize = request.logMaxSize
        host.logMaxFiles = request.logMaxFiles
        host.usernsMode = request.userns?.rawValue ?? ""
        host.userNamespace = userNamespace
        return ContainerRecord(id: id, name: request.name ?? "", created: Timestamp.now(), path: path, args: args,
                               image: image, imageManifest: "", config: settings, hostConfig: host)
    }

    /// The overlay root of an image container: the image's layers below its own upper dir.
    func overlay(for record: ContainerRecord, layers: [String]) -> OverlayRoot {
        OverlayRoot(lowerDirectories: layers, upperDirectory: store.upperDirectory(of: record.id),
                    workDirectory: store.workDirectory(of: record.id), linkDirectory: store.linkDirectory(of: record.id),
                    isDisposable: record.hostConfig.autoRemove)
    }

    /// The configuration to launch `record`'s container with again (start, restart, a restart
    /// policy): its launch spec, on the layers of the image it was created from.
    public func launchConfig(of record: ContainerRecord) throws -> ContainerConfig {
        var config = try store.launchConfig(of: record)
        guard record.hasImage else { return config }
        return try images().resolve(record.imageManifest) { resolved in
            config.overlay = overlay(for: record, layers: resolved.layerDirectories)
            return config
        }
    }
}
