import Containers
import BerthNetwork
#if canImport(Glibc)
import Glibc
#endif

/// A service's instances as containers: started detached on the service's network from the
/// service's version, and stopped the way a deploy needs (the stop signal, the grace period,
/// then SIGKILL), then removed.
struct ServiceInstances {
    let engine: ContainerEngine
    let project: String

    /// Makes the service's network when it does not exist yet.
    func ensureNetwork(_ service: ProxiedService) throws {
        let store = try engine.networks()
        if (try? store.find(service.network)) != nil { return }
        do {
            _ = try engine.createNetwork(NetworkStore.CreateRequest(name: service.network, created: Timestamp.now()))
        } catch {
            // Another deploy of the project made it meanwhile.
            if (try? store.find(service.network)) == nil { throw error }
        }
    }

    /// Starts a new instance of `version` for `slot`; its container id and address.
    func start(_ version: ProxiedService, slot: String) throws -> (id: String, address: String) {
        var request = ContainerRequest(root: .image(version.imageToRun), network: version.network)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        request.name = "\(project)-\(version.name)-\(slot)-\(suffix)"
        request.command = version.command
        request.entrypoint = version.entrypoint
        request.env = version.environment
        request.cgroupParent = version.cgroupParent
        version.settings?.apply(to: &request)
        request.labels["berth.compose.project"] = project
        request.labels["berth.compose.service"] = version.name
        request.labels["berth.compose.slot"] = slot
        // A crashed instance comes back with back-off; HAProxy's checks keep it out meanwhile.
        request.restart = RestartPolicy(name: "unless-stopped")
        if !version.healthcheck.test.isEmpty {
            let check = version.healthcheck
            request.healthCheck = HealthCheck(test: check.test, interval: Int64(check.intervalMilliseconds) * 1_000_000,
                                              timeout: Int64(check.timeoutMilliseconds) * 1_000_000, retries: check.retries)
        }
        let created = try engine.create(request)
        do {
            try engine.startDetached(created)
            guard let (_, lease) = engine.attachment(of: try engine.find(created.record.id)) else {
                throw ProxyError(.invalidState, "instance \(created.record.name) of \(version.name) has no address on network "
                                 + "\(version.network)")
            }
            return (created.record.id, lease.address.description)
        } catch {
            try? engine.remove(created.record, force: true)
            throw error
        }
    }

    /// Starts a stopped instance again (a standby, or one a Ctrl-C stopped): the same container,
    /// so no new one is made; its id and its address, which may be another than before.
    func resume(_ id: String) throws -> (id: String, address: String) {
        let record = try engine.find(id)
        try engine.start(record)
        guard let (_, lease) = engine.attachment(of: try engine.find(id)) else {
            throw ProxyError(.invalidState, "instance \(record.name) has no address on its network")
        }
        return (id, lease.address.description)
    }

    /// The slot's stopped `container` started again when it is `reusable` and starts; else it is
    /// removed (one that cannot start again: removed by hand, its image gone) and a new
    /// instance of `version` is made, the cold path.
    func resumeOrStart(_ container: String?, reusable: Bool, _ version: ProxiedService,
                       slot: String) throws -> (id: String, address: String) {
        if let container {
            if reusable, let resumed = try? resume(container) { return resumed }
            stop(container, signal: nil, grace: 0)
        }
        return try start(version, slot: slot)
    }

    /// Stops an instance gracefully and removes it unless `keeping`: the stop signal (the
    /// service's, else the container's), up to `grace` seconds for it to end, then SIGKILL.
    /// The engine's stop waits on the monitor's end, not by polling, so the next step follows
    /// the instance's end at once. A container already gone is fine.
    func stop(_ id: String, signal name: String?, grace: Int, keeping: Bool = false) {
        guard let record = try? engine.find(id) else { return }
        if engine.isRunning(record) {
            try? engine.stop(record, timeout: max(grace, 0), signal: name.flatMap(SignalName.number))
        }
        if !keeping { try? engine.remove(record, force: true) }
    }

    /// Whether the instance's container runs.
    func isRunning(_ id: String) -> Bool {
        guard let record = try? engine.find(id) else { return false }
        return engine.state(of: record).status == .running
    }
}
