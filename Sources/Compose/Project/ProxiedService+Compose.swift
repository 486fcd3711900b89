import Containers

/// A service with `x-berth.proxy` as the deploy code runs it: the compose model's half and the
/// proxy's half meet here, and nowhere else.
extension ComposeProject {
    /// The proxied service `service` runs as (with `image` instead of the file's when given);
    /// nil when the service has no `x-berth.proxy`.
    public func proxied(_ service: ServiceDefinition, image: String? = nil) -> ProxiedService? {
        guard let proxy = service.berth.proxy, let port = service.berth.port else { return nil }
        var command = service.command ?? []
        var entrypoint: String?
        // An entrypoint is one program in a request: its other words go before the command.
        if let words = service.entrypoint {
            entrypoint = words.first ?? ""
            command = Array(words.dropFirst()) + command
        }
        var proxied = ProxiedService(
            name: service.name, image: image ?? service.image, command: command, entrypoint: entrypoint,
            environment: service.environment, port: port, replicas: service.replicas, backups: proxy.backups,
            healthPath: proxy.healthPath, stopSignal: service.stopSignal, stopGracePeriod: service.stopTimeoutSeconds,
            network: model.networks.first { $0.key == service.network.name }?.name ?? name + "_default",
            proxy: ProxyListener(address: proxy.listenHost, port: proxy.listenPort), cgroupParent: service.cgroupParent ?? "berth",
            settings: instanceSettings(of: service))
        if let check = service.healthcheck {
            proxied.healthcheck = ProxiedHealthcheck(
                test: check.command == nil ? [] : check.test, intervalMilliseconds: Int(check.effectiveInterval / 1_000_000),
                timeoutMilliseconds: Int(check.effectiveTimeout / 1_000_000), retries: check.effectiveRetries)
            // A new instance has what its check allows: the start period and retries+1 rounds.
            let allowed = check.startPeriod + Int64(check.effectiveRetries + 1) * (check.effectiveInterval + check.effectiveTimeout)
            proxied.startTimeout = Int((allowed + 999_999_999) / 1_000_000_000)
        }
        return proxied
    }
}

extension ServiceDefinition {
    /// The keys this service sets that its instances do not get when it is proxied, each with
    /// why, by their names in the file. Everything else applies as to a plain instance.
    var keysProxiedInstancesLack: [(key: String, reason: String)] {
        guard berth.proxy != nil else { return [] }
        var lacking: [(key: String, reason: String)] = []
        if !ports.isEmpty {
            lacking.append(("ports", "its instances cannot share host ports: the proxy's listen address is the published port"))
        }
        if restart != nil {
            lacking.append(("restart", "the deployer owns its instances' lifecycle: a crashed one is restarted (unless-stopped), "
                            + "a replaced one stopped"))
        }
        return lacking
    }
}
