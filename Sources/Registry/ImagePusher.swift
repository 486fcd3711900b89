import AsyncHTTPClient
import ImageStore
import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#endif

/// What a push reports as it goes.
public enum PushEvent: Sendable {
    case plainHTTP(registry: String)
    case blobExists(Digest)
    case blobMounted(Digest, from: String)
    case blobProgress(Digest, bytes: Int64, total: Int64)
    case blobPushed(Digest)
    case manifestPushed(Digest)
}

/// `berth push`: each blob the registry lacks (a HEAD tells), mounted from another repository
/// of the registry when the store knows one that holds it, else uploaded (in one PUT, or in
/// PATCH chunks past `chunkSize`); the manifest last, so the tag appears only once every blob is
/// there.
public struct ImagePusher: Sendable {
    public let store: ImageStore
    public let insecureRegistries: [String]
    public let credentials: Credentials?
    public let caFile: String?
    /// Blobs larger than this go up in PATCH chunks of this size.
    public let chunkSize: Int64
    /// Blobs uploaded at once.
    public let parallelBlobs: Int

    public init(store: ImageStore, insecureRegistries: [String] = [], credentials: Credentials? = nil,
                caFile: String? = nil, chunkSize: Int64 = 64 << 20, parallelBlobs: Int = 3) {
        self.store = store
        self.parallelBlobs = parallelBlobs
        self.caFile = caFile
        self.insecureRegistries = insecureRegistries
        self.credentials = credentials
        self.chunkSize = chunkSize
    }

    /// Pushes the image `name` names (a tag in the store) as `reference`.
    public func push(_ name: String, as reference: ImageReference,
                     progress: @escaping @Sendable (PushEvent) -> Void = { _ in }) async throws -> Digest {
        let image = try store.pushableImage(name, registry: reference.domain)
        let endpoint = RegistryEndpoint(registry: reference.domain, insecureRegistries: insecureRegistries)
        if endpoint.isPlainHTTP { progress(.plainHTTP(registry: endpoint.name)) }
        let client = RegistryClient(endpoint: endpoint, credentials: credentials, caFile: caFile)
        do {
            let repository = reference.remotePath
            try await pushBlobs([image.manifest.config] + image.manifest.layers, repository: repository,
                                mountSources: image.mountSources, client: client, progress: progress)
            try await client.retrying {
                let response = try await client.send(
                    .PUT, "/v2/\(repository)/manifests/\(reference.tag ?? image.manifestDigest.description)",
                    scope: "repository:\(repository):pull,push", headers: [("Content-Type", image.mediaType)],
                    body: .bytes(image.manifestBytes))
                try await client.check(response, "manifest \(reference)")
            }
            progress(.manifestPushed(image.manifestDigest))
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw error
        }
        try store.notePushed(image.manifestDigest, to: reference)
        return image.manifestDigest
    }

    /// Pushes `blobs`, `parallelBlobs` at a time: one upload at a time leaves the link idle
    /// while the registry commits each blob (it hashes and moves what it received).
    private func pushBlobs(_ blobs: [OCIImage.Descriptor], repository: String, mountSources: [Digest: [String]],
                           client: RegistryClient, progress: @escaping @Sendable (PushEvent) -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for blob in blobs {
                let digest = try blob.parsedDigest()
                if running >= max(1, parallelBlobs) {
                    _ = try await group.next()
                    running -= 1
                }
                let size = blob.size
                let sources = mountSources[digest] ?? []
                group.addTask {
                    try await pushBlob(digest, size: size, repository: repository, sources: sources, client: client, progress: progress)
                }
                running += 1
            }
            try await group.waitForAll()
        }
    }

    private func pushBlob(_ digest: Digest, size: Int64, repository: String, sources: [String], client: RegistryClient,
                          progress: @escaping @Sendable (PushEvent) -> Void) async throws {
        let scope = "repository:\(repository):pull,push"
        let exists = try await client.retrying {
            let response = try await client.send(.HEAD, "/v2/\(repository)/blobs/\(digest)", scope: scope)
            if response.status == .notFound { return false }
            try await client.check(response, "blob \(digest) of \(repository)")
            return true
        }
        if exists {
            progress(.blobExists(digest))
            return
        }
        var upload: String?
        for source in sources where source != repository {
            let response = try await client.retrying {
                let response = try await client.send(.POST, "/v2/\(repository)/blobs/uploads/?mount=\(digest)&from=\(percentEncoded(source))",
                                                     scope: scope)
                try await client.check(response, "a mount of blob \(digest) from \(source)")
                return response
            }
            if response.status == .created {
                progress(.blobMounted(digest, from: source))
                return
            }
            // 202: the registry would not mount, and started an upload instead.
            upload = response.headers.first(name: "Location")
            break
        }
        try await client.retrying {
            try await uploadBlob(digest, size: size, repository: repository, startedAt: upload, client: client, progress: progress)
        }
        progress(.blobPushed(digest))
    }

    /// One upload session: monolithic PUT, or PATCH chunks and a closing PUT for a big blob.
    private func uploadBlob(_ digest: Digest, size: Int64, repository: String, startedAt started: String?,
                            client: RegistryClient, progress: @escaping @Sendable (PushEvent) -> Void) async throws {
        let scope = "repository:\(repository):pull,push"
        let path = store.blobPath(digest)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RegistryError(.systemError, "cannot open blob \(digest) (\(path))", errno: errno) }
        defer { close(fd) }
        var location: String
        if let started {
            location = started
        } else {
            let response = try await client.send(.POST, "/v2/\(repository)/blobs/uploads/", scope: scope)
            try await client.check(response, "an upload to \(repository)")
            guard let value = response.headers.first(name: "Location") else {
                throw RegistryError(.rejected, "registry \(client.endpoint.name) started an upload without a Location")
            }
            location = value
        }
        var offset: Int64 = 0
        if size > chunkSize {
            while offset < size {
                let length = min(chunkSize, size - offset)
                let response = try await client.send(
                    .PATCH, try client.path(of: location), scope: scope,
                    headers: [("Content-Type", "application/octet-stream"), ("Content-Range", "\(offset)-\(offset + length - 1)"),
                              ("Content-Length", "\(length)")],
                    body: .stream(FileChunks(fd: fd, offset: offset, length: length, path: path), length: .known(length)))
                try await client.check(response, "a chunk of blob \(digest)")
                guard let next = response.headers.first(name: "Location") else {
                    throw RegistryError(.rejected, "registry \(client.endpoint.name) took a chunk of blob \(digest) without a Location")
                }
                location = next
                offset += length
                progress(.blobProgress(digest, bytes: offset, total: size))
            }
        }
        let rest = size - offset
        let target = try client.path(of: location) + (location.contains("?") ? "&" : "?") + "digest=\(digest)"
        let response = try await client.send(
            .PUT, target, scope: scope, headers: [("Content-Type", "application/octet-stream"), ("Content-Length", "\(rest)")],
            body: .stream(FileChunks(fd: fd, offset: offset, length: rest, path: path), length: .known(rest)))
        try await client.check(response, "blob \(digest) of \(repository)")
        progress(.blobProgress(digest, bytes: size, total: size))
    }
}

extension RegistryClient {
    /// An upload's Location as a path under the registry (registries send absolute URLs or
    /// paths); another host's URL is refused rather than sent credentials.
    func path(of location: String) throws -> String {
        if location.hasPrefix("/") { return location }
        guard location.hasPrefix(endpoint.baseURL + "/") else {
            throw RegistryError(.rejected, "registry \(endpoint.name) sent an upload location on another host: \(location)")
        }
        return String(location.dropFirst(endpoint.baseURL.count))
    }
}
