import CFileSystem
import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// The store's unpacked layers (`layers/<chain-id>/`) and its temporary directory.
extension ImageStore {
    /// `layers/<chainID>`, unpacked from the layer's blob when it is not there yet. The blob is
    /// unpacked into a temporary directory while its digest and diff_id are computed, and renamed
    /// into place only when both match: a damaged blob never becomes a layer directory.
    ///
    /// Callers hold the store lock (shared is enough: two unpacks of the same layer race only to
    /// the rename, and the loser discards its copy).
    func unpackLayer(_ layer: OCIImage.Descriptor, diffID: Digest, chainID: Digest) throws -> String {
        let target = layerDirectory(chainID: chainID)
        if access(target, F_OK) == 0 { return target }
        let digest = try layer.parsedDigest()
        let blob = layout.blobs.path(of: digest)
        let fd = open(blob, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let err = errno
            if err == ENOENT { throw ImageStoreError(.notFound, "layer \(digest) is not in the store") }
            throw ImageStoreError(.systemError, "cannot open layer \(digest)", errno: err)
        }
        defer { close(fd) }

        let temp = try makeTemporaryDirectory("layer")
        var keep = false
        defer { if !keep { removeTree(temp) } }
        let digests = LayerDigests()
        let unpackError: LayerError?
        do {
            _ = try LayerUnpacker(options: unpackOptions).unpack(from: fd, into: temp, observer: digests.observer)
            unpackError = nil
        } catch {
            unpackError = error
        }
        // A damaged blob may fail anywhere in the unpack: hash the rest of it, so that damage is
        // reported as damage rather than as whatever the decompressor tripped on.
        try digests.drainStored(fd, path: blob)
        let stored = digests.storedDigest()
        guard stored == digest else {
            throw ImageStoreError(.corrupt, "layer \(digest) is damaged: its content no longer matches its digest (\(blob))")
        }
        if let unpackError { throw ImageStoreError(layer: unpackError, "cannot unpack layer \(digest)") }
        let uncompressed = digests.uncompressedDigest()
        guard uncompressed == diffID else {
            throw ImageStoreError(.corrupt, "layer \(digest) unpacks to \(uncompressed), but the image's config says its diff_id is \(diffID)")
        }
        // The files must be on disk before the name says the layer is complete: one syncfs of
        // the store's filesystem rather than an fsync per file.
        let tempFD = open(temp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if tempFD >= 0 {
            _ = berth_syncfs(tempFD)
            close(tempFD)
        } else {
            sync()
        }
        if rename(temp, target) != 0 {
            let err = errno
            // Another berth unpacked the same layer meanwhile: theirs is as good as ours.
            if (err == EEXIST || err == ENOTEMPTY), access(target, F_OK) == 0 { return target }
            throw ImageStoreError(.systemError, "cannot move the unpacked layer into \(target)", errno: err)
        }
        keep = true
        // Best effort: a layer directory lost in a power cut is unpacked again from its blob.
        try? syncDirectory(layersDirectory)
        return target
    }

    /// A new, empty directory in `tmp/` whose name starts with `prefix`.
    public func makeTemporaryDirectory(_ prefix: String) throws -> String {
        var template = Array("\(temporaryDirectory)/\(prefix)-\(getpid())-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        guard let made else {
            throw ImageStoreError(.systemError, "cannot create a temporary directory in \(temporaryDirectory)", errno: errno)
        }
        return made
    }

    /// Removes `path` (a file or a whole tree) without following links; errors are ignored, since
    /// what stays is removed again by the next open.
    func removeTree(_ path: String) {
        try? FileTree.remove(path)
    }

    /// Removes everything interrupted operations left: all of `tmp/` (blobs being ingested,
    /// layers being unpacked or packed) and index.json temporaries. Only with the exclusive lock
    /// held: every writer of `tmp/` holds the lock, shared or exclusive, while it writes.
    func removeIncomplete() {
        layout.blobs.removeIncomplete()
        for name in listDirectory(temporaryDirectory) {
            removeTree(temporaryDirectory + "/" + name)
        }
        for name in listDirectory(layout.path) where name.hasPrefix("index.json.tmp-") || name.hasPrefix("oci-layout.tmp-") {
            unlink(layout.path + "/" + name)
        }
    }
}

extension ImageStoreError {
    /// A layer error as the store reports it: the layer code's sentence (which names the entry)
    /// after what the store was doing.
    init(layer error: LayerError, _ doing: String) {
        let code: Code = switch error.code {
        case .unsafePath, .deviceNotAllowed, .unsupported, .badArchive: .rejected
        default: error.code
        }
        self.init(code, "\(doing): \(error)")
    }
}
