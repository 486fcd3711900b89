import Containers
import JSON

/// What each instance of a service is created from: the service as a `ContainerRequest`, the
/// engine's own description of a container, plus Compose's names and labels.
extension ComposeProject {
    /// Docker Compose v2's name for instance `number` (from 1) of `service`.
    public func containerName(_ service: String, _ number: Int) -> String { "\(name)-\(service)-\(number)" }

    /// The request for instance `number` of `service`, whose image has the id `imageID` (see
    /// `configHash`).
    public func request(for service: ServiceDefinition, number: Int, imageID: String? = nil) -> ContainerRequest {
        let network = model.networks.first { $0.key == service.network.name }?.name ?? name + "_default"
        var request = ContainerRequest(root: .image(service.image), network: network)
        request.name = containerName(service.name, number)
        request.env = service.environment
        // An entrypoint is one program in a request: its other words go before the command.
        if let entrypoint = service.entrypoint {
            request.entrypoint = entrypoint.first ?? ""
            request.command = Array(entrypoint.dropFirst()) + (service.command ?? [])
        } else if let command = service.command {
            request.command = command
        }
        request.publish = service.ports
        request.restart = service.restart ?? RestartPolicy()
        request.healthCheck = service.healthcheck
        request.stopSignal = service.stopSignal
        if let parent = service.cgroupParent { request.cgroupParent = parent }
        instanceSettings(of: service).apply(to: &request)
        request.labels[ComposeLabels.project] = name
        request.labels[ComposeLabels.service] = service.name
        request.labels[ComposeLabels.containerNumber] = String(number)
        request.labels[ComposeLabels.configHash] = configHash(of: service, imageID: imageID)
        return request
    }

    /// The settings every instance of `service` gets, plain or proxied: its volumes by their
    /// names on the host, its labels, user, directory and names on the network.
    public func instanceSettings(of service: ServiceDefinition) -> InstanceSettings {
        var settings = InstanceSettings()
        // Other services reach this one by its service's name (every instance answers to it).
        settings.networkAliases = [service.name] + service.network.aliases.filter { $0 != service.name }
        settings.workingDir = service.workingDir
        settings.user = service.user
        settings.hostname = service.hostname
        settings.useInit = service.initProcess
        settings.readOnly = service.readOnly
        settings.labels = service.labels
        for mount in service.volumes {
            switch mount {
            case .volume(let key, let target, let readOnly, let noCopy):
                let volume = model.volumes.first { $0.key == key }?.name ?? name + "_" + key
                let modes = (readOnly ? ["ro"] : []) + (noCopy ? ["nocopy"] : [])
                settings.volumes.append("\(volume):\(target)" + (modes.isEmpty ? "" : ":" + modes.joined(separator: ",")))
            case .bind(let source, let target, let readOnly):
                settings.volumes.append("\(source):\(target)" + (readOnly ? ":ro" : ""))
            case .anonymous(let target):
                settings.volumes.append(target)
            case .tmpfs(let target):
                settings.tmpfs.append(target)
            }
        }
        return settings
    }

    /// The hash of everything an instance of `service` is made from: the service as `config`
    /// prints it, and the names its network and volumes have on the host. FNV-1a, 64 bits.
    /// The number of instances and `x-berth` (the proxy's business) are left out: scaling or
    /// moving the proxy replaces no instance. So is `build:`, for the image's id (when given)
    /// stands in for it: a rebuild that made another image replaces the instances, one that
    /// changed nothing keeps them.
    public func configHash(of service: ServiceDefinition, imageID: String? = nil) -> String {
        var made = service
        made.replicas = 1
        made.berth = BerthSettings()
        made.build = nil
        var text = JSON.serialize(made.json)
        if let imageID { text += Array("\nimage=\(imageID)".utf8) }
        let network = model.networks.first { $0.key == service.network.name }?.name ?? ""
        text += Array("\n\(network)".utf8)
        for volume in model.volumes { text += Array("\n\(volume.key)=\(volume.name)".utf8) }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
