import ImageStore

/// What a pull reports as it goes, for the CLI's progress display.
public enum PullEvent: Sendable {
    /// The registry is spoken to over plain HTTP (loopback or marked insecure).
    case plainHTTP(registry: String)
    /// The manifest to pull was found: its digest and blobs.
    case resolved(manifest: Digest, layers: [OCIImage.Descriptor])
    case layerPresent(Digest)
    case layerProgress(Digest, bytes: Int64, total: Int64)
    case layerDone(Digest)
}

/// What a pull needs besides the reference.
public struct PullOptions: Sendable {
    public var platform: PlatformChoice
    public var insecureRegistries: [String]
    public var credentials: Credentials?
    /// `--tls-ca`: a CA to trust besides the system's.
    public var caFile: String?
    /// Layers downloaded at once.
    public var parallelLayers: Int

    public init(platform: PlatformChoice = .host, insecureRegistries: [String] = [], credentials: Credentials? = nil,
                caFile: String? = nil, parallelLayers: Int = 3) {
        self.caFile = caFile
        self.platform = platform
        self.insecureRegistries = insecureRegistries
        self.credentials = credentials
        self.parallelLayers = parallelLayers
    }
}

/// `berth pull`: a reference's manifest (the platform's entry of an index), then its config and
/// layers into the store, a few at a time, and the manifest and tag last. An interrupted or
/// failed pull leaves only verified blobs and resumable downloads, never a tag.
public struct ImagePuller: Sendable {
    public let store: ImageStore
    public let options: PullOptions

    public init(store: ImageStore, options: PullOptions = .init()) {
        self.store = store
        self.options = options
    }

    public func pull(_ reference: ImageReference, progress: @escaping @Sendable (PullEvent) -> Void = { _ in })
        async throws -> ImageSummary {
        let endpoint = RegistryEndpoint(registry: reference.domain, insecureRegistries: options.insecureRegistries)
        if endpoint.isPlainHTTP { progress(.plainHTTP(registry: endpoint.name)) }
        let client = RegistryClient(endpoint: endpoint, credentials: options.credentials, caFile: options.caFile)
        do {
            let summary = try await pull(reference, client: client, progress: progress)
            await client.shutdown()
            return summary
        } catch {
            await client.shutdown()
            throw error
        }
    }

    private func pull(_ reference: ImageReference, client: RegistryClient,
                      progress: @escaping @Sendable (PullEvent) -> Void) async throws -> ImageSummary {
        let repository = reference.remotePath
        var name = reference.description
        var (bytes, digest, contentType) = try await client.manifest(
            repository: repository, reference: reference.digest?.description ?? reference.tag ?? "latest", name: name)
        var document = try ManifestDocument.parse(bytes, contentType: contentType, name: name)
        var indexDigest: Digest?
        if case .index(let index, _) = document {
            indexDigest = digest
            guard let entry = options.platform.pick(from: index.manifests) else {
                let offered = index.manifests.compactMap { $0.platform }
                    .map { [$0.os, $0.architecture, $0.variant].compactMap { $0 }.joined(separator: "/") }
                throw RegistryError(.notFound, "\(name) has no image for \(options.platform) (it has "
                                        + "\(offered.isEmpty ? "none with a platform" : offered.joined(separator: ", "))); "
                                        + "choose one with --platform")
            }
            let entryDigest = try entry.parsedDigest()
            name = "\(reference.name)@\(entryDigest) (\(options.platform))"
            (bytes, digest, contentType) = try await client.manifest(repository: repository, reference: entryDigest.description, name: name)
            document = try ManifestDocument.parse(bytes, contentType: contentType ?? entry.mediaType, name: name)
        }
        guard case .image(let manifest, let mediaType) = document else {
            throw RegistryError(.unsupported, "\(name) is an index whose entry is another index; berth pulls one level only")
        }
        try ManifestDocument.checkLayers(manifest, name: name)
        progress(.resolved(manifest: digest, layers: manifest.layers))

        let blobs = [manifest.config] + manifest.layers
        let digests = try blobs.map { try $0.parsedDigest() }
        let reservation = try store.reserveBlobs(digests)
        defer { reservation.release() }
        try await download(blobs, repository: repository, client: client, progress: progress)
        return try store.recordPulledImage(manifest: bytes, digest: digest, mediaType: mediaType, as: reference,
                                           indexDigest: indexDigest)
    }

    /// Downloads the blobs the store lacks, `parallelLayers` at a time.
    private func download(_ blobs: [OCIImage.Descriptor], repository: String, client: RegistryClient,
                          progress: @escaping @Sendable (PullEvent) -> Void) async throws {
        let store = self.store
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for blob in blobs {
                let digest = try blob.parsedDigest()
                if store.hasBlob(digest) {
                    progress(.layerPresent(digest))
                    continue
                }
                if running >= max(1, options.parallelLayers) {
                    _ = try await group.next()
                    running -= 1
                }
                let size = blob.size
                group.addTask {
                    try await client.downloadBlob(repository: repository, digest: digest, size: size, into: store) { bytes in
                        progress(.layerProgress(digest, bytes: bytes, total: size))
                    }
                    progress(.layerDone(digest))
                }
                running += 1
            }
            try await group.waitForAll()
        }
    }
}
