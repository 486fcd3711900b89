import Containers

extension ComposeEngine {
    /// What an attached `compose up` follows: the running instances of `services`, plain ones
    /// and the containers serving the proxied ones, each service's in its start order.
    public func attachedInstances(of services: [ServiceDefinition]) throws -> [Instance] {
        var found: [Instance] = []
        for service in services {
            if project.proxied(service) != nil {
                found += try servingProxiedContainers(of: [service.name])
            } else {
                found += instances(of: [service.name])
            }
        }
        return found
    }

    /// Ctrl-C of an attached `compose up`, as Docker Compose does it: `services` stopped in
    /// reverse start order and kept (`up` starts them again, `down` removes them), each within
    /// its grace period. A proxied service leaves the proxy first, and HAProxy stops after the
    /// last proxied service of the project that it served.
    public func stop(_ services: [ServiceDefinition], progress: (String) -> Void = { _ in }) throws {
        for service in services.reversed() {
            if project.proxied(service) != nil {
                try stopProxied(service.name)
                progress("Service \(service.name) Stopped")
                continue
            }
            for instance in instances(of: [service.name]).reversed() {
                try engine.stop(instance.record, timeout: service.stopTimeoutSeconds)
                progress("Container \(instance.record.name) Stopped")
            }
        }
        if try stopIdleProxy() { progress("Proxy HAProxy Stopped") }
    }
}
