import ImageStore
import Runtime

/// What `commit` is asked to record besides the container's files.
public struct CommitRequest {
    /// The image's name; nil leaves it untagged.
    public var target: ImageReference?
    public var author: String?
    public var message: String?
    /// Freeze a running container while its files are read (Docker's default, `--pause`).
    public var pause: Bool
    /// Edits applied to the image's execution config after the container's own settings
    /// (`--change`). Called while the container is still paused.
    public var changes: (inout OCIImage.ExecutionConfig) -> Void

    public init(target: ImageReference? = nil, author: String? = nil, message: String? = nil, pause: Bool = true,
                changes: @escaping (inout OCIImage.ExecutionConfig) -> Void = { _ in }) {
        self.target = target
        self.author = author
        self.message = message
        self.pause = pause
        self.changes = changes
    }
}

extension UserNamespace {
    /// The same mappings, for the layer packer that shifts the upper dir's owners back.
    var layerOwnerMap: LayerOwnerMap {
        let ranges = { (mappings: [IDMapping]) in
            mappings.map { LayerOwnerMap.Range(containerID: $0.containerID, hostID: $0.hostID, size: $0.size) }
        }
        return LayerOwnerMap(uids: ranges(uidMappings), gids: ranges(gidMappings))
    }
}

extension ContainerEngine {
    /// `berth commit`: the container's writable layer becomes one new layer on top of its
    /// image's, its settings the new image's config. A running container is paused meanwhile
    /// unless the request says otherwise, so the layer is one moment of its files.
    ///
    /// The container's lifecycle lock is held to the end: an rm waits for the commit instead of
    /// deleting the upper directory under its walk (which would store a part of the changes),
    /// and a commit that waited for an rm says "no such container".
    public func commit(_ record: ContainerRecord, _ request: CommitRequest) throws -> ImageStore.CommitResult {
        let (lock, record) = try store.lockLifecycle(of: record)
        defer { lock.release() }
        do {
            return try commitLocked(record, request)
        } catch {
            // What is left unlocked: a --rm container's monitor removing it at its end.
            throw explainedFailure(error, of: record)
        }
    }

    private func commitLocked(_ record: ContainerRecord, _ request: CommitRequest) throws -> ImageStore.CommitResult {
        guard record.hasImage else {
            throw ContainerError(.unsupported, "container \(record.name) runs in a --rootfs directory: it has no layer of its own to commit")
        }
        guard let parent = Digest(record.imageManifest) else {
            throw ContainerError(.systemError, "the record of container \(record.shortID) names no valid image manifest")
        }
        let images = try images()
        // A host or container that cannot be paused (no v1 freezer hierarchy; a container started
        // by a berth that made no freezer cgroup) can still be committed running, by choice.
        return try whilePaused(record, pause: request.pause, for: "the commit (commit it running with --pause=false)") {
            try images.commit(
                upperDirectory: store.upperDirectory(of: record.id), parent: parent, as: request.target,
                author: request.author, message: request.message,
                createdBy: ([record.path] + record.args).joined(separator: " "), date: Timestamp.now(),
                userNamespace: record.hostConfig.userNamespace.map(\.layerOwnerMap),
                configChanges: { config in
                    // Docker's rule: the container's settings become the image's, then --change.
                    var execution = config.config ?? OCIImage.ExecutionConfig()
                    execution.cmd = record.config.cmd
                    execution.entrypoint = record.config.entrypoint
                    execution.env = record.config.env
                    execution.workingDir = record.config.workingDir.isEmpty ? nil : record.config.workingDir
                    execution.user = record.config.user.isEmpty ? nil : record.config.user
                    request.changes(&execution)
                    config.config = execution
                })
        }
    }
}
