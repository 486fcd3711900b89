import JSON
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// A container's launch description, `containers/<id>/launch.json`: an OCI runtime spec
/// (`ContainerConfig.ociSpec`), written once when the container is created. Every later start —
/// `start`, `restart`, a restart policy — and `exec` read it; none of them re-reads the command
/// line or the image's config, so a container runs again exactly as it was created.
extension ContainerStore {
    public func launchSpecPath(of id: String) -> String { directory(of: id) + "/launch.json" }

    /// Writes the spec (atomically; `durable` makes it survive a power cut, which a container
    /// removed at its end does not need).
    public func writeLaunchSpec(_ config: ContainerConfig, durable: Bool) throws {
        let bytes: [UInt8]
        do {
            bytes = try JSON.encode(config.ociSpec)
        } catch {
            throw ContainerError(.systemError, "cannot encode the launch spec of container \(config.id.prefix(12)): \(error)")
        }
        try replaceFile(launchSpecPath(of: config.id), bytes, durable: durable)
    }

    /// The launch configuration `record`'s container was created with.
    public func launchConfig(of record: ContainerRecord) throws -> ContainerConfig {
        guard record.formatVersion >= 2 else {
            throw ContainerError(.unsupported, "container \(record.name) was created by an older berth and has no launch spec: "
                                 + "remove it (berth rm \(record.name)) and run it again")
        }
        let path = launchSpecPath(of: record.id)
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch let error as ContainerError where error.errno == ENOENT {
            throw ContainerError(.notFound, "container \(record.name) was removed meanwhile")
        }
        do {
            let spec = try JSON.decode(OCIRuntimeSpec.self, from: bytes, source: path)
            return try ContainerConfig(id: record.id, oci: spec)
        } catch {
            throw ContainerError(.corrupt, "the launch spec of container \(record.name) is damaged (\(path)): \(error)")
        }
    }
}
