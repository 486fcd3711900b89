import JSON
#if canImport(Glibc)
import Glibc
#endif

/// `berth image check` (fsck): what is wrong with the store, read-only.
extension ImageStore {
    /// Every problem found, one sentence each; empty when the store is healthy. Checks that every
    /// index entry's manifest, config and layer blobs exist and hash to their names, that every
    /// `layers/` entry is named by a chain id, and that `tmp/` holds nothing an interrupted
    /// operation left (the exclusive lock is held, so nothing legitimate is in flight there).
    /// Reads every blob of every image: as slow as the store is large.
    public func check() throws -> [String] {
        try locked(.exclusive) {
            var problems: [String] = []
            var checked = Set<Digest>()
            func verify(_ descriptor: OCIImage.Descriptor, _ what: String) -> Digest? {
                guard let digest = Digest(descriptor.digest) else {
                    problems.append("\(what) has an invalid digest \"\(descriptor.digest)\"")
                    return nil
                }
                guard checked.insert(digest).inserted else { return digest }
                if let problem = verifyBlob(digest, what) {
                    problems.append(problem)
                    return nil
                }
                return digest
            }
            func checkManifest(_ entry: OCIImage.Descriptor, _ name: String) {
                guard let digest = verify(entry, "the manifest of \(name)") else { return }
                guard let bytes = try? layout.blobs.read(digest) else { return }
                if OCIImage.MediaType.isIndex(entry.mediaType) {
                    guard let index = try? JSON.decode(OCIImage.Index.self, from: bytes) else {
                        problems.append("the image index of \(name) (\(digest)) does not parse")
                        return
                    }
                    for child in index.manifests { checkManifest(child, name) }
                    return
                }
                guard let manifest = try? JSON.decode(OCIImage.Manifest.self, from: bytes) else {
                    problems.append("the manifest of \(name) (\(digest)) does not parse")
                    return
                }
                if let config = verify(manifest.config, "the config of \(name)"),
                   (try? readConfig(config, name: name)) == nil {
                    problems.append("the config of \(name) (\(config)) does not parse")
                }
                for (i, layer) in manifest.layers.enumerated() { _ = verify(layer, "layer \(i + 1) of \(name)") }
            }

            for entry in try layout.index().manifests {
                checkManifest(entry, entry.annotations?[OCIImage.refNameAnnotation] ?? "untagged image \(entry.digest)")
            }
            for name in listDirectory(layout.blobs.directory) where Digest("sha256:" + name) == nil {
                problems.append("\(layout.blobs.directory)/\(name) is not named by a digest")
            }
            for name in listDirectory(layersDirectory) where Digest("sha256:" + name) == nil {
                problems.append("\(layersDirectory)/\(name) is not named by a chain id")
            }
            for name in listDirectory(temporaryDirectory) {
                problems.append("\(temporaryDirectory)/\(name) was left by an interrupted operation (reopening the store removes it)")
            }
            return problems
        }
    }

    /// nil when the blob exists and hashes to its name, else the problem. Streams the file: layers
    /// can be large.
    private func verifyBlob(_ digest: Digest, _ what: String) -> String? {
        let path = layout.blobs.path(of: digest)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return errno == ENOENT ? "\(what) (\(digest)) is missing from \(layout.blobs.directory)"
                : "\(what) (\(digest)) cannot be read: \(describeErrno(errno))"
        }
        defer { close(fd) }
        var digester = Digester()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return "\(what) (\(digest)) cannot be read: \(describeErrno(errno))"
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { digester.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        let actual = digester.finalize()
        return actual == digest ? nil : "\(what) (\(path)) is damaged: its content hashes to \(actual)"
    }
}
