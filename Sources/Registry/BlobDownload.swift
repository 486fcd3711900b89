import AsyncHTTPClient
import ImageStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

extension RegistryClient {
    /// The largest manifest or index accepted (the distribution spec's servers refuse > 4 MiB).
    static let manifestLimit = 4 << 20

    /// A manifest's bytes and their digest: `reference` is a tag or a digest (`sha256:…`), which
    /// the bytes must then match.
    func manifest(repository: String, reference: String, name: String) async throws
        -> (bytes: [UInt8], digest: Digest, contentType: String?) {
        try await retrying {
            let response = try await send(.GET, "/v2/\(repository)/manifests/\(reference)", scope: "repository:\(repository):pull",
                                          headers: [("Accept", ManifestDocument.acceptedTypes.joined(separator: ", "))])
            try await check(response, "manifest \(name)")
            let bytes: [UInt8]
            do {
                bytes = Array(buffer: try await response.body.collect(upTo: Self.manifestLimit))
            } catch let error as NIOTooManyBytesError {
                throw RegistryError(.rejected, "the manifest of \(name) is larger than 4 MiB (\(error))")
            } catch {
                throw TransientFailure(description: "registry \(endpoint.name) broke off the manifest of \(name) (\(error))")
            }
            let digest = Digest.of(bytes)
            if let asked = Digest(reference), asked != digest {
                throw RegistryError(.corrupt, "registry \(endpoint.name) sent a manifest for \(name) whose digest is \(digest); "
                                        + "nothing was stored")
            }
            return (bytes, digest, response.headers.first(name: "Content-Type"))
        }
    }

    /// Downloads blob `digest` of `size` bytes into the store: streamed to the store's download
    /// file while hashed (memory does not grow with the blob), resumed with a Range request from
    /// what an earlier attempt or an interrupted pull left there, and moved under `blobs/` only
    /// when its digest and size match. `progress` gets the bytes held so far.
    func downloadBlob(repository: String, digest: Digest, size: Int64, into store: ImageStore,
                      progress: @Sendable (Int64) -> Void) async throws {
        let path = try store.downloadPath(digest)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RegistryError(.systemError, "cannot open \(path)", errno: errno) }
        defer { close(fd) }
        // Another berth pulling the same blob holds the file: wait for it, then its blob is there.
        guard flock(fd, LOCK_EX) == 0 else { throw RegistryError(.systemError, "cannot lock \(path)", errno: errno) }
        if store.hasBlob(digest) { return }

        var digester = Digester()
        try hashExisting(fd, into: &digester, path: path)
        if digester.count > size { try restart(fd, &digester, path: path) }
        progress(digester.count)

        try await retrying {
            guard digester.count < size else { return }
            let from = digester.count
            let response = try await send(.GET, "/v2/\(repository)/blobs/\(digest)", scope: "repository:\(repository):pull",
                                          headers: from > 0 ? [("Range", "bytes=\(from)-")] : [])
            try await check(response, "blob \(digest) of \(repository)")
            if from > 0 && response.status != .partialContent { try restart(fd, &digester, path: path) }
            do {
                for try await chunk in response.body {
                    try chunk.withUnsafeReadableBytes { bytes in
                        try writeAll(fd, bytes, path: path)
                        digester.update(bytes)
                    }
                    guard digester.count <= size else { break }
                    progress(digester.count)
                }
            } catch let error as RegistryError {
                throw error
            } catch {
                throw TransientFailure(description: "registry \(endpoint.name) broke off blob \(digest) at byte \(digester.count) (\(error))")
            }
            if digester.count < size {
                throw TransientFailure(description: "registry \(endpoint.name) ended blob \(digest) at byte \(digester.count) of \(size)")
            }
        }
        let got = digester.finalize()
        guard got == digest, digester.count == size else {
            unlink(path)
            throw RegistryError(.corrupt, "blob \(digest) of \(repository) from registry \(endpoint.name) is damaged: "
                                    + "\(digester.count) bytes with digest \(got), expected \(size) bytes; nothing was stored")
        }
        try store.adoptDownload(path, digest: digest)
    }

    private func hashExisting(_ fd: Int32, into digester: inout Digester, path: String) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw RegistryError(.systemError, "cannot read \(path)", errno: errno) }
            if n == 0 { return }
            buffer.withUnsafeBytes { digester.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// Empties the download file: the registry sent the whole blob, not the rest asked for.
    private func restart(_ fd: Int32, _ digester: inout Digester, path: String) throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw RegistryError(.systemError, "cannot truncate \(path)", errno: errno)
        }
        digester = Digester()
    }
}

private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    var offset = 0
    while offset < bytes.count {
        let n = write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw RegistryError(.systemError, "cannot write \(path)", errno: errno) }
        offset += n
    }
}
