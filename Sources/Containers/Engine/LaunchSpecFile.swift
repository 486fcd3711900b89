import FileSystem
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

    /// Writes the spec atomically, as durably as `durability` says (a container removed at its
    /// end needs none); `reusing`: a spare file of the directory whose blocks take it
    /// (`recordLaunch`), which makes it not durable.
    public func writeLaunchSpec(_ config: ContainerConfig, durability: AtomicFile.Durability,
                                reusing spare: String? = nil) throws {
        let bytes = JSON.serialize(config.ociSpec.launchJSON)
        let path = launchSpecPath(of: config.id)
        do {
            try AtomicFile.replace(path, with: bytes, mode: 0o600, durability: durability, reusing: spare)
        } catch {
            throw ContainerError.system("cannot write \(error.path) (\(error.call))", errno: error.errno)
        }
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
            bytes = try FileIO.readFile(path)
        } catch {
            if error.errno == ENOENT { throw ContainerError(.notFound, "container \(record.name) was removed meanwhile") }
            throw ContainerError.system("cannot read \(path)", errno: error.errno)
        }
        do {
            let spec = try OCIRuntimeSpec(launchJSON: try JSON.parse(bytes))
            return try ContainerConfig(id: record.id, oci: spec)
        } catch {
            throw ContainerError(.corrupt, "the launch spec of container \(record.name) is damaged (\(path)): \(error)")
        }
    }
}
