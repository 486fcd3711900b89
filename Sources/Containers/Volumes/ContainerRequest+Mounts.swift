import Runtime
#if canImport(Glibc)
import Glibc
#endif

extension ContainerRequest {
    /// The `-v`, `--mount` and `--tmpfs` flags, parsed and checked.
    public func mountRequests() throws -> [MountRequest] {
        try MountRequest.parse(volumes: volumes, mounts: mounts, tmpfs: tmpfs)
    }

    /// Puts the requests' binds and tmpfs mounts into `config`. Volumes are the engine's to
    /// add (`ContainerEngine.attachVolumes`): they are made, which a check must not do. A
    /// `--mount` bind's source must exist; a `-v` one is made later, by the engine.
    func applyHostMounts(_ requests: [MountRequest], to config: inout ContainerConfig) throws {
        for request in requests {
            switch request.source {
            case let .bind(path, createMissing):
                var st = stat()
                if !createMissing, lstat(path, &st) != 0 {
                    throw ContainerError(.notFound, "bind source path does not exist: \(path)", errno: errno)
                }
                config.bindMounts.append(BindMount(source: path, destination: request.destination,
                                                   readOnly: request.readOnly, propagation: request.propagation))
            case let .tmpfs(flags, options):
                config.tmpfsMounts.append(TmpfsMount(destination: request.destination, flags: flags, options: options))
            case .volume:
                continue
            }
        }
    }
}
