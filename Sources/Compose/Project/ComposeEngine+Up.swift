import BerthErrors
import Containers
import ImageStore
import BerthNetwork

extension ComposeEngine {
    /// What `up` did to one instance, for its progress lines.
    public enum InstanceChange: String, Sendable {
        case created = "Created and started"
        case started = "Started"
        case kept = "Running"
        case recreated = "Recreated"
        case removed = "Removed"
    }

    /// `compose up -d`: the networks and volumes the chosen services use, then each service in
    /// dependency order, each waiting for its `service_healthy` dependencies to be healthy.
    /// An instance whose config hash is the file's is kept (started if it stopped); one whose
    /// configuration changed is replaced; instances beyond `deploy.replicas` are removed. A
    /// service with `x-berth.proxy` is brought up behind HAProxy instead (its actives and
    /// backups through `ProxyDeployer.up`, which adopts running ones).
    public func up(_ services: [String] = [], progress: (String) -> Void = { _ in }) throws {
        let chosen = try selected(services)
        // An image that is not there is found before anything is made for the project.
        let images = try engine.images()
        var imageIDs: [String: String] = [:]
        for service in chosen {
            do {
                imageIDs[service.name] = try images.resolve(service.image).configDigest.description
            } catch let error as BerthError {
                let hint = service.build == nil ? "" : " (build it with compose build \(service.name), or up without --no-build)"
                throw BerthError(error.code, "service \(service.name): \(error.message)\(hint)")
            }
        }
        // So is a missing HAProxy, when a chosen service is served through it.
        if chosen.contains(where: { project.proxied($0) != nil }) { try ProxyProcess.checkInstalled() }
        try makeNetworks(for: chosen, progress: progress)
        try makeVolumes(for: chosen, progress: progress)
        for service in chosen {
            for dependency in service.dependsOn where dependency.condition == .healthy {
                try waitUntilHealthy(dependency.service, progress: progress)
            }
            if let proxied = project.proxied(service) {
                try upProxied(proxied, progress: progress)
            } else {
                try converge(service, imageID: imageIDs[service.name], progress: progress)
            }
        }
    }

    private func makeNetworks(for services: [ServiceDefinition], progress: (String) -> Void) throws {
        let store = try engine.networks()
        for network in project.model.networks where services.contains(where: { $0.network.name == network.key }) {
            if (try? store.find(network.name)) != nil { continue }
            if network.external {
                throw BerthError(.notFound, "network \(network.name) is declared external but does not exist: "
                                 + "create it with berth network create \(network.name)")
            }
            var request = NetworkStore.CreateRequest(name: network.name, created: Timestamp.now())
            request.subnet = network.subnet
            request.labels = network.labels
            request.labels[ComposeLabels.project] = project.name
            request.labels[ComposeLabels.network] = network.key
            do {
                _ = try engine.createNetwork(request)
                progress("Network \(network.name) Created")
            } catch let error as BerthError where error.code == .conflict {
                // Another `up` of the project made it meanwhile: it is there, as wanted.
            }
        }
    }

    /// The project's named volumes `services` use that do not exist yet.
    func makeVolumes(for services: [ServiceDefinition], progress: (String) -> Void) throws {
        for volume in project.model.volumes {
            let used = services.contains { service in
                service.volumes.contains { if case .volume(let key, _, _, _) = $0 { key == volume.key } else { false } }
            }
            guard used, (try? engine.volumes.find(volume.name)) == nil else { continue }
            if volume.external {
                throw BerthError(.notFound, "volume \(volume.name) is declared external but does not exist: "
                                 + "create it with berth volume create \(volume.name)")
            }
            let labels = volume.labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                + [(ComposeLabels.project, project.name), (ComposeLabels.volume, volume.key)]
            _ = try engine.createVolume(volume.name, labels: labels)
            progress("Volume \(volume.name) Created")
        }
    }

    /// Brings `service`'s instances to the file's configuration and count.
    private func converge(_ service: ServiceDefinition, imageID: String?, progress: (String) -> Void) throws {
        let hash = project.configHash(of: service, imageID: imageID)
        let existing = instances(of: [service.name])
        for number in stride(from: 1, through: service.instanceCount, by: 1) {
            let name = project.containerName(service.name, number)
            if let current = existing.first(where: { $0.number == number }) {
                if current.configHash == hash {
                    let running = engine.state(of: current.record).status == .running
                    if !running { try engine.start(current.record) }
                    progress("Container \(name) \(running ? InstanceChange.kept.rawValue : InstanceChange.started.rawValue)")
                    continue
                }
                try remove(current.record, timeout: service.stopTimeoutSeconds)
                try create(service, number: number, imageID: imageID)
                progress("Container \(name) \(InstanceChange.recreated.rawValue)")
            } else {
                try create(service, number: number, imageID: imageID)
                progress("Container \(name) \(InstanceChange.created.rawValue)")
            }
        }
        for extra in existing where extra.number > service.instanceCount || extra.number < 1 {
            try remove(extra.record, timeout: service.stopTimeoutSeconds)
            progress("Container \(extra.record.name) \(InstanceChange.removed.rawValue)")
        }
    }

    /// Creates and starts instance `number` of `service`; a container that cannot start is
    /// removed again, so a failed `up` leaves no half-made instance behind.
    public func create(_ service: ServiceDefinition, number: Int, imageID: String? = nil) throws {
        let created = try engine.create(project.request(for: service, number: number, imageID: imageID))
        do {
            try engine.startDetached(created)
        } catch {
            try? engine.remove(created.record, force: true, volumes: true)
            throw error
        }
    }

    /// Stops an instance within its service's grace period (the stop signal, then SIGKILL),
    /// then removes it and its anonymous volumes.
    public func remove(_ record: ContainerRecord, timeout: Int) throws {
        try engine.stop(record, timeout: timeout)
        try engine.remove(record, force: true, volumes: true)
    }
}
