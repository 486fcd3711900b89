import ImageStore
import Runtime

/// `berth export`.
extension ContainerEngine {
    /// Writes the container's filesystem as a tar to `output`: its image's layers with its own
    /// upper dir on top, merged as its overlay shows them (`MergedTreeExport`), read from the
    /// directories without mounting anything; a `--rootfs` container's directory as it is.
    /// A running container is not paused (Docker's export does not pause either). Its lifecycle
    /// lock is held, so an rm waits for the export rather than deleting files under it.
    public func export(_ record: ContainerRecord, to output: Int32) throws {
        let (lock, current) = try store.lockLifecycle(of: record)
        defer { lock.release() }
        let layers: [MergedTreeExport.Layer]
        if let rootfs = current.rootfs {
            layers = [MergedTreeExport.Layer(directory: rootfs)]
        } else {
            let lower = try images().resolve(current.imageManifest) { $0.layerDirectories }
            let userNamespace = current.hostConfig.userNamespace
            let upper = MergedTreeExport.Layer(
                directory: store.upperDirectory(of: current.id),
                overlayXattrPrefix: userNamespace == nil ? "trusted.overlay." : ImageStore.userNamespaceXattrPrefix,
                ownerMap: userNamespace?.layerOwnerMap)
            layers = [upper] + lower.map { MergedTreeExport.Layer(directory: $0) }
        }
        do {
            try MergedTreeExport.write(layers: layers, to: output)
        } catch {
            throw error.context("cannot export container \(current.name)")
        }
    }
}
