import BerthErrors
import Containers

extension ComposeEngine {
    /// `compose down [-v]`: the project's containers (by their labels, in reverse start order,
    /// each stopped within its service's grace period), then its networks, and with `volumes`
    /// its named volumes and the containers' anonymous ones. External networks and volumes stay.
    /// The proxied services go first, through their deployer, and HAProxy with them.
    public func down(removingVolumes: Bool, progress: (String) -> Void = { _ in }) throws {
        try downProxied(progress: progress)
        for instance in instances().reversed() {
            let timeout = project.model.service(instance.service)?.stopTimeoutSeconds ?? 10
            try engine.stop(instance.record, timeout: timeout)
            try engine.remove(instance.record, force: true, volumes: removingVolumes)
            progress("Container \(instance.record.name) Removed")
        }
        let store = try engine.networks()
        for network in try store.list() where network.labels[ComposeLabels.project] == project.name {
            _ = try engine.removeNetwork(network.name)
            progress("Network \(network.name) Removed")
        }
        guard removingVolumes else { return }
        for volume in engine.volumes.all() where volume.labels.contains(where: { $0 == (ComposeLabels.project, project.name) }) {
            try engine.removeVolume(volume.name)
            progress("Volume \(volume.name) Removed")
        }
    }
}
