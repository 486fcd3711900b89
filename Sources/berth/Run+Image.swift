import Containers
import ImageStore
import Runtime
#if canImport(Glibc)
import Glibc
#endif

extension Run {
    /// `berth run IMAGE`: a container on overlayfs over the image's layers, kept (for `diff`,
    /// `commit`, `ps -a`) until `berth rm`, or removed at its end with `--rm`.
    func runImage(runtime: HostRuntime) throws -> Int32 {
        let root = global.stateRoot
        let images = try ImageStore(root: root)
        // What crashed commands left is tidied by the commands that list containers (ps, rm…),
        // not here: a start stays the same price however many containers there are.
        let containers = try ContainerStore(root: root)
        let id = ContainerID.generate()

        // The record is written while the store's lock is held: from then on a prune sees the
        // container and keeps its layers.
        let (resolved, created) = try images.resolve(image ?? "") { resolved in
            (resolved, try containers.create(try makeRecord(id: id, image: resolved, runtime: runtime)))
        }
        var record = created
        if detach {
            do {
                let config = try makeConfig(record: record, image: resolved, containers: containers)
                try DetachedLauncher(global: global, runtime: runtime, containers: containers).start(record, config: config)
            } catch {
                if autoRemove { try? containers.remove(record) }
                if let failure = error as? DetachedStartFailure {
                    Output.error(failure.message)
                    return failure.exitCode
                }
                throw error
            }
            Output.print(record.id)
            return 0
        }
        do {
            let config = try makeConfig(record: record, image: resolved, containers: containers)
            let session = ContainerSession(runtime: runtime, config: config, interactive: interactive)
            if global.debug { session.printPlan() }
            let outcome = try session.run { pid in
                record.state = ContainerState(status: .running, pid: pid, startedAt: Timestamp.now())
                try? containers.write(record)
            }
            record.state = record.state.ended(exitCode: outcome.exitCode, oomKilled: outcome.oomKilled)
            // With --rm the end is not recorded: the record goes anyway.
            if autoRemove {
                try containers.remove(record)
            } else {
                try? containers.write(record)
            }
            return outcome.exitCode
        } catch {
            // A container that never ran stays "Created", as with Docker, unless --rm.
            if autoRemove { try? containers.remove(record) }
            throw error
        }
    }

    /// The container's record: Docker's Config and HostConfig from the image and the flags.
    private func makeRecord(id: String, image resolved: ResolvedImage, runtime: HostRuntime) throws -> ContainerRecord {
        let defaults = resolved.config.config
        // --entrypoint replaces the image's entrypoint and drops its Cmd (Docker's rule).
        let entry: [String]? = entrypoint.map { $0.isEmpty ? [] : [$0] } ?? defaults?.entrypoint
        let cmd: [String]? = !command.isEmpty ? command : (entrypoint == nil ? defaults?.cmd : nil)
        let args = (entry ?? []) + (cmd ?? [])
        guard let path = args.first else {
            throw RuntimeError(.invalidArgument,
                               "no command to run: image \(image ?? "") has no Cmd or Entrypoint; give one after the image name")
        }
        let settings = ContainerSettings(
            image: image ?? "", hostname: hostname ?? String(id.prefix(12)), user: user ?? defaults?.user ?? "",
            env: mergedEnvironment(image: defaults?.env ?? []), cmd: cmd, entrypoint: entry,
            workingDir: workdir ?? defaults?.workingDir ?? "", tty: tty, openStdin: interactive,
            stopSignal: defaults?.stopSignal)
        let host = HostSettings(
            autoRemove: autoRemove, binds: volume, memory: try memory.map(ByteSize.parse) ?? 0,
            nanoCpus: Int64((cpus ?? 0) * 1e9), pidsLimit: pidsLimit ?? 0, readonlyRootfs: readOnly,
            networkMode: network, privileged: privileged, cgroupParent: cgroupParent,
            cgroup: runtime.launcher.cgroupPath(for: id).relative, restartPolicy: restart)
        var hostConfig = host
        hostConfig.logMaxSize = logMaxSize
        hostConfig.logMaxFiles = logMaxFiles
        return ContainerRecord(
            id: id, name: name ?? "", created: Timestamp.now(), path: path, args: Array(args.dropFirst()),
            image: resolved.configDigest.description, imageManifest: resolved.manifestDigest.description,
            config: settings, hostConfig: hostConfig, runArguments: arguments)
    }

    /// The image's Env with the -e flags over it: the container's own variables (Docker's
    /// Config.Env, which a commit passes on), without the per-run defaults such as HOSTNAME.
    private func mergedEnvironment(image: [String]) -> [String] {
        applying(environmentFlags(env), to: image)
    }

    /// The launch config: the record's command, the flags, and an overlay root over the layers.
    func makeConfig(record: ContainerRecord, image resolved: ResolvedImage,
                            containers: ContainerStore) throws -> ContainerConfig {
        let upper = containers.upperDirectory(of: record.id)
        var config = try makeConfig(
            id: record.id, rootfs: containers.rootfsDirectory(of: record.id), args: [record.path] + record.args,
            image: ImageDefaults(env: record.config.env, workingDir: record.config.workingDir,
                                 user: record.config.user),
            fileRoots: [upper] + resolved.layerDirectories)
        config.overlay = OverlayRoot(lowerDirectories: resolved.layerDirectories, upperDirectory: upper,
                                     workDirectory: containers.workDirectory(of: record.id),
                                     linkDirectory: containers.linkDirectory(of: record.id),
                                     isDisposable: record.hostConfig.autoRemove)
        return config
    }
}
