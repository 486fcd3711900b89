import FileSystem
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// What `create` holds between making a container's volumes and writing its record: the volume
/// store's lock, shared (a `volume rm` or `prune` waits until the record names the volumes), and
/// the anonymous volumes it made, removed again when the container is not created after all.
final class VolumeClaim: @unchecked Sendable {
    /// The container's mounts, for its record.
    var points: [MountPoint] = []
    /// Anonymous volumes this creation made.
    var madeAnonymous: [String] = []
    private var lockFD: Int32 = -1

    init() {}

    init(lockFD: Int32) { self.lockFD = lockFD }

    deinit { release() }

    func release() {
        guard lockFD >= 0 else { return }
        close(lockFD)
        lockFD = -1
    }
}

extension ContainerEngine {
    /// The state root's volumes.
    public var volumes: VolumeStore { VolumeStore(stateRoot: stateRoot) }

    /// Carries out the request's mounts for a container being created: makes a `-v` bind's
    /// missing source directory, makes (or finds) its volumes and an anonymous volume for each
    /// of the image's VOLUMEs no mount covers, fills a new empty volume with what the image has
    /// there (`layers`, nil for a `--rootfs` container: no copy), and binds each volume's data
    /// into `config`. The request is already checked (`launchConfig`). Keep the returned claim
    /// until the record is written.
    func attachMounts(_ request: ContainerRequest, imageVolumes: [String], layers: [String]?,
                      to config: inout ContainerConfig) throws -> VolumeClaim {
        let requests = try request.mountRequests()
        let covered = Set(requests.map(\.destination))
        let anonymous = imageVolumes.sorted().compactMap { path -> MountRequest? in
            let destination = try? MountRequest.checkedDestination(path) { ContainerError(.invalidArgument, $0) }
            guard let destination, !covered.contains(destination) else { return nil }
            return MountRequest(source: .volume(name: nil), destination: destination)
        }
        let all = requests + anonymous
        let usesVolumes = all.contains { if case .volume = $0.source { true } else { false } }
        let claim = usesVolumes ? VolumeClaim(lockFD: try volumes.lockShared()) : VolumeClaim()
        do {
            for mount in all {
                claim.points.append(try attach(mount, layers: layers, to: &config, claim: claim))
            }
        } catch {
            discardAnonymousVolumes(of: claim)
            throw error
        }
        return claim
    }

    private func attach(_ mount: MountRequest, layers: [String]?, to config: inout ContainerConfig,
                        claim: VolumeClaim) throws -> MountPoint {
        switch mount.source {
        case let .bind(path, createMissing):
            var st = stat()
            if createMissing, lstat(path, &st) != 0 {
                do {
                    try Directory.make(path)
                } catch {
                    throw ContainerError(.systemError, "cannot create the bind source \(path): \(error)")
                }
            }
            return MountPoint(type: "bind", source: path, destination: mount.destination,
                              mode: mount.readOnly ? "ro" : "", readWrite: !mount.readOnly,
                              propagation: (mount.propagation ?? .rprivate).rawValue)
        case .tmpfs:
            return MountPoint(type: "tmpfs", source: "", destination: mount.destination, readWrite: !mount.readOnly)
        case .volume(let name):
            let labels = name == nil ? [(VolumeStore.anonymousLabel, "")] : []
            let (volume, isNew) = try volumes.create(name, labels: labels)
            if name == nil, isNew { claim.madeAnonymous.append(volume.name) }
            if let layers, !mount.noCopy, volumes.isEmpty(volume.name) {
                try VolumeCopyUp(layers: layers, userNamespace: config.userNamespace)
                    .fill(volume.name, in: volumes, from: mount.destination)
            }
            // A volume this container made, and nothing copied into it, is its root's (as with
            // userns-remap): in a user namespace, host root's directory would be read-only to it.
            if isNew, let userNamespace = config.userNamespace, volumes.isEmpty(volume.name),
               chown(volume.mountpoint, userNamespace.hostRootUID, userNamespace.hostRootGID) != 0 {
                throw ContainerError.system("cannot give the volume \(volume.name) to the container's root")
            }
            config.bindMounts.append(BindMount(source: volume.mountpoint, destination: mount.destination,
                                               readOnly: mount.readOnly))
            return MountPoint(type: "volume", name: volume.name, source: volume.mountpoint, destination: mount.destination,
                              driver: volume.driver, mode: "z", readWrite: !mount.readOnly, isAnonymous: name == nil)
        }
    }

    /// `body`'s result; the claim's new anonymous volumes are removed when it throws.
    func creatingVolumes<T>(_ claim: VolumeClaim, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            discardAnonymousVolumes(of: claim)
            throw error
        }
    }

    /// Removes the anonymous volumes a creation that failed made.
    func discardAnonymousVolumes(of claim: VolumeClaim) {
        for name in claim.madeAnonymous { try? volumes.remove(name) }
        claim.madeAnonymous = []
    }

    // MARK: volume commands

    /// `volume create`: the volume `name` (a generated one when nil), made unless it exists.
    public func createVolume(_ name: String?, labels: [(String, String)]) throws -> Volume {
        try volumes.create(name, labels: labels).volume
    }

    /// The containers, running or not, whose records mount the volume.
    public func containers(using volume: String) -> [ContainerRecord] {
        store.all().filter { record in record.mounts.contains { $0.type == "volume" && $0.name == volume } }
    }

    /// `volume rm`: refused while any container, running or stopped, uses the volume (Docker's
    /// rule, with or without -f).
    public func removeVolume(_ name: String) throws {
        try volumes.withLock(exclusive: true) {
            _ = try volumes.find(name)
            if let user = containers(using: name).first {
                let shown = user.name.isEmpty ? user.shortID : "\(user.name) (\(user.shortID))"
                throw ContainerError(.conflict, "volume \(name) is in use by container \(shown): remove the container first")
            }
            try volumes.remove(name)
        }
    }

    /// `volume prune`: removes the volumes no container uses, only anonymous ones unless `all`
    /// (Docker 23's rule). Returns their names and the bytes their files took.
    public func pruneVolumes(all: Bool) throws -> (removed: [String], reclaimedBytes: Int64) {
        volumes.removeIncomplete()
        return try volumes.withLock(exclusive: true) {
            let used = Set(store.all().flatMap { $0.mounts.filter { $0.type == "volume" }.map(\.name) })
            var removed: [String] = []
            var bytes: Int64 = 0
            for volume in volumes.all() where (all || volume.isAnonymous) && !used.contains(volume.name) {
                let size = volumes.diskUsage(of: volume.name)
                try volumes.remove(volume.name)
                removed.append(volume.name)
                bytes += size
            }
            return (removed, bytes)
        }
    }

    /// Removes the container's anonymous volumes that no other container uses: `rm -v`, and the
    /// end of a `--rm` container. Named volumes stay. Best effort: the container is gone already.
    public func removeAnonymousVolumes(of record: ContainerRecord) {
        let anonymous = record.mounts.filter { $0.type == "volume" && $0.isAnonymous }.map(\.name)
        guard !anonymous.isEmpty else { return }
        try? volumes.withLock(exclusive: true) {
            for name in anonymous where containers(using: name).allSatisfy({ $0.id == record.id }) {
                do {
                    try volumes.remove(name)
                } catch {
                    logger.warning("cannot remove the anonymous volume", metadata: ["volume": "\(name)", "error": "\(error)"])
                }
            }
        }
    }

    /// `rm [-f] [-v]`: `remove(_:force:)`, then with `volumes` the container's anonymous volumes.
    public func remove(_ record: ContainerRecord, force: Bool, volumes removingVolumes: Bool) throws {
        try remove(record, force: force)
        if removingVolumes { removeAnonymousVolumes(of: record) }
    }
}
