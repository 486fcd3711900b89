import BerthErrors
import Containers
import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// The project's proxied services (`x-berth.proxy`) through `ProxyDeployer`. Their instances
/// carry the deployer's labels (`berth.compose.*`), not Compose's, so `instances()` and the
/// replica count of `up` never see them: one owner per container.
extension ComposeEngine {
    /// The project's state directory, `compose/<project>`: the deployer's records and HAProxy's files.
    var proxyDirectory: String { engine.stateRoot + "/compose/" + project.name }

    /// The deployer of the project's proxied services.
    func deployer() throws -> ProxyDeployer { try ProxyDeployer(engine: engine, project: project.name) }

    /// The file's service `name` as a proxied one; an error when it has no `x-berth.proxy`.
    public func proxiedService(_ name: String, image: String? = nil) throws -> ProxiedService {
        guard let service = project.model.service(name) else {
            throw BerthError(.notFound, "no such service: \(name) (the file's services: "
                             + project.model.services.map(\.name).joined(separator: ", ") + ")")
        }
        guard let proxied = project.proxied(service, image: image) else {
            throw BerthError(.invalidArgument, "service \(name) has no x-berth.proxy, so it has no zero-downtime deploy: "
                             + "give it one, or change it with compose up")
        }
        return proxied
    }

    /// `compose deploy SERVICE [--image IMAGE]`: the careful cycle to the image given, else the file's.
    public func deploy(_ name: String, image: String? = nil) throws -> ProxyDeployer.Outcome {
        let target = try pinned(try proxiedService(name, image: image))
        // A volume the new version adds is made as `up` makes it, with the project's labels.
        try makeVolumes(for: project.model.services.filter { $0.name == name }, progress: { _ in })
        return try deployer().deploy(target)
    }

    /// `service` with the id of the image its name resolves to now: the version a record keeps
    /// is that image, whatever the tag names later (issue 16's `deploy --build` moves it).
    func pinned(_ service: ProxiedService) throws -> ProxiedService {
        var pinned = service
        do {
            pinned.imageID = try engine.images().resolve(service.image).configDigest.description
        } catch let error as BerthError {
            throw error.context("service \(service.name)")
        }
        return pinned
    }

    /// `compose rollback SERVICE`: back to the image the last deploy replaced, the same way.
    public func rollback(_ name: String) throws -> ProxyDeployer.Outcome {
        _ = try proxiedService(name)
        return try deployer().rollback(name)
    }

    /// Brings a proxied service up behind HAProxy; instances of it that `up` made while it was
    /// a plain service go first.
    func upProxied(_ service: ProxiedService, progress: (String) -> Void) throws {
        for plain in instances(of: [service.name]) {
            try remove(plain.record, timeout: project.model.service(service.name)?.stopTimeoutSeconds ?? 10)
            progress("Container \(plain.record.name) \(InstanceChange.removed.rawValue)")
        }
        try deployer().up(try pinned(service))
        progress("Service \(service.name) Serving on \(service.proxy.address):\(service.proxy.port)")
    }

    /// One slot of a proxied service, for `compose ps`.
    public struct ProxiedInstance: Sendable {
        public var service: String
        public var backup: Bool
        public var server: String
        /// The image of the version the slot runs, as its file or `--image` named it (its
        /// container is made from the image's id).
        public var image: String?
        /// The slot's container, nil while the slot is empty.
        public var record: ContainerRecord?
        /// HAProxy's view: "UP", "DRAIN", "MAINT", "DOWN" (nil when it does not answer).
        public var proxyStatus: String?
        public var sessions: Int
        /// A stopped instance the slot ran before the last deploy, kept for a hot rollback.
        public var standby = false
    }

    /// The slots of the project's proxied services (`services` only, when not empty), as
    /// berth's records and HAProxy's `show stat` see them. A project that never had a proxied
    /// service has none, and no directory is made to say so.
    public func proxiedInstances(of services: [String] = []) throws -> [ProxiedInstance] {
        guard access(proxyDirectory, F_OK) == 0 else { return [] }
        let deployer = try deployer()
        var found: [ProxiedInstance] = []
        for record in deployer.directory.records() where services.isEmpty || services.contains(record.service.name) {
            for (slot, stat) in try deployer.status(record.service.name) {
                found.append(ProxiedInstance(
                    service: record.service.name, backup: slot.backup, server: slot.server, image: slot.version?.image,
                    record: slot.container.flatMap { try? engine.find($0) },
                    proxyStatus: stat.map { String($0.status.split(separator: " ").first ?? "") }, sessions: stat?.sessions ?? 0))
            }
            for slot in record.slots {
                guard let standby = slot.standby else { continue }
                found.append(ProxiedInstance(
                    service: record.service.name, backup: slot.backup, server: slot.server, image: standby.version.image,
                    record: try? engine.find(standby.container), proxyStatus: nil, sessions: 0, standby: true))
            }
        }
        return found
    }

    /// The proxied services' containers as instances (number 0: their deployer names them by
    /// slot), for `logs`.
    public func proxiedContainers(of services: [String] = []) -> [Instance] {
        let found = engine.list().compactMap { record -> Instance? in
            let labels = record.config.labels
            guard labels["berth.compose.project"] == project.name, let service = labels["berth.compose.service"],
                  services.isEmpty || services.contains(service)
            else { return nil }
            return Instance(record: record, service: service, number: 0, configHash: "")
        }
        return found.sorted { ($0.service, $0.record.name) < ($1.service, $1.record.name) }
    }

    /// The containers serving the proxied `services` now (no standby), as instances, for the
    /// output an attached `up` follows.
    func servingProxiedContainers(of services: [String]) throws -> [Instance] {
        try proxiedInstances(of: services).compactMap { slot in
            guard !slot.standby, let record = slot.record else { return nil }
            return Instance(record: record, service: slot.service, number: 0, configHash: "")
        }
    }

    /// Stops the proxied service `name`'s instances and keeps them (`ProxyDeployer.stop`).
    func stopProxied(_ name: String) throws {
        guard access(proxyDirectory, F_OK) == 0 else { return }
        try deployer().stop(name)
    }

    /// Stops HAProxy when no proxied service of the project has a running instance behind it:
    /// true when it did.
    func stopIdleProxy() throws -> Bool {
        guard access(proxyDirectory, F_OK) == 0 else { return false }
        let deployer = try deployer()
        let serving = deployer.directory.records().contains { record in
            record.slots.contains { $0.container.map(deployer.instances.isRunning) ?? false }
        }
        guard !serving, deployer.directory.proxy.runningPid != nil else { return false }
        deployer.directory.proxy.stop()
        return true
    }

    /// Takes every proxied service of the project down (also one no longer in the file), which
    /// stops HAProxy with the last, then removes the project's state directory.
    func downProxied(progress: (String) -> Void) throws {
        guard access(proxyDirectory, F_OK) == 0 else { return }
        let deployer = try deployer()
        let order = (try? ComposeModel.startOrder(project.model.services).map(\.name)) ?? []
        let names = deployer.directory.records().map(\.service.name).sorted {
            (order.firstIndex(of: $0) ?? order.count) > (order.firstIndex(of: $1) ?? order.count)
        }
        for name in names {
            try deployer.down(name)
            progress("Service \(name) Removed from the proxy")
        }
        deployer.directory.proxy.stop()
        do {
            try FileTree.remove(proxyDirectory)
        } catch {
            throw BerthError(.systemError, "cannot remove the project's state directory \(proxyDirectory): \(error)")
        }
    }
}
