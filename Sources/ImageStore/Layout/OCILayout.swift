import FileSystem
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/`), the on-disk
/// form of berth's image store, so that standard tools (skopeo, umoci) read it as it is.
/// Tags are index.json entries with the `org.opencontainers.image.ref.name` annotation, whose
/// value is the full reference in its normalised, familiar form (`busybox:1.35`, see
/// `ImageReference`).
///
/// index.json is replaced atomically (temporary file, fsync, rename): a reader never sees half
/// of one. Writers must hold the store's exclusive lock; this type does not lock.
public struct OCILayout: Sendable {
    public let path: String
    public let blobs: BlobStore

    /// Opens the layout at `path`, creating an empty one if there is none.
    /// `temporaryDirectory` must be on the same filesystem (blobs are renamed from there).
    public init(path: String, temporaryDirectory: String) throws {
        self.path = path
        blobs = BlobStore(layout: path, temporaryDirectory: temporaryDirectory)
        try makeDirectories(path + "/blobs/sha256")
        if access(path + "/oci-layout", F_OK) != 0 {
            try writeAtomically(path + "/oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        }
        if access(path + "/index.json", F_OK) != 0 {
            try writeIndex(OCIImage.Index())
        }
    }

    /// Opens a layout that exists (index.json is there), creating nothing.
    public init(existingAt path: String, temporaryDirectory: String) {
        self.path = path
        blobs = BlobStore(layout: path, temporaryDirectory: temporaryDirectory)
    }

    /// index.json as it is now.
    public func index() throws -> OCIImage.Index {
        let file = path + "/index.json"
        let bytes = try readFile(file)
        var index: OCIImage.Index
        do {
            index = try OCIImage.Index(json: try JSON.parse(bytes))
        } catch {
            throw ImageStoreError(.corrupt, "\(file): \(error) (the store's index is damaged)")
        }
        Self.normaliseTags(&index)
        return index
    }

    /// Tags written before references were normalised kept the text as typed
    /// (`docker.io/library/busybox:1`): each is read as its normalised form (`busybox:1`), which
    /// every lookup compares with, and is written back so by the next change of the index. Two
    /// spellings of one tag keep the entry written last (appended last), as retagging would; the
    /// other is dropped, kept untagged when nothing else names its manifest.
    static func normaliseTags(_ index: inout OCIImage.Index) {
        var seen: Set<String> = []
        var dropped: [OCIImage.Descriptor] = []
        for i in index.manifests.indices.reversed() {
            guard let tag = index.manifests[i].annotations?[OCIImage.refNameAnnotation],
                  let reference = try? ImageReference.parse(tag) else { continue }
            let normalised = reference.description
            if seen.contains(normalised) {
                dropped.append(index.manifests.remove(at: i))
                continue
            }
            seen.insert(normalised)
            if normalised != tag { index.manifests[i].annotations?[OCIImage.refNameAnnotation] = normalised }
        }
        for old in dropped { keepUntagged(old, in: &index) }
    }

    public func writeIndex(_ index: OCIImage.Index) throws {
        let bytes: [UInt8]
        do {
            bytes = try JSON.encode(index)
        } catch {
            throw ImageStoreError(.systemError, "cannot encode index.json: \(error)")
        }
        // The blobs this index may name were renamed into place without a directory sync
        // (BlobStore): their entries become durable here, before the index that names them.
        try syncDirectory(blobs.directory)
        try writeAtomically(path + "/index.json", bytes)
    }

    /// Every tagged manifest: the reference (as written in its annotation) and its descriptor.
    public func tags() throws -> [(reference: String, manifest: OCIImage.Descriptor)] {
        try index().manifests.compactMap { descriptor in
            descriptor.annotations?[OCIImage.refNameAnnotation].map { ($0, descriptor) }
        }
    }

    /// The manifest a reference names: by tag, or by digest when the reference has one.
    public func resolve(_ reference: ImageReference) throws -> OCIImage.Descriptor {
        let manifests = try index().manifests
        if let digest = reference.digest {
            guard let found = Self.entry(digest, of: reference, in: manifests) else {
                throw ImageStoreError(.notFound, "no image \(reference) in the store: \(reference.name) has no image with that digest")
            }
            return found
        }
        let name = reference.description
        guard let found = manifests.first(where: { $0.annotations?[OCIImage.refNameAnnotation] == name }) else {
            throw ImageStoreError(.notFound, "no image \(name) in the store (see berth images)")
        }
        return found
    }

    /// The index entry with `digest` under `reference`'s repository: a digest reference names an
    /// image only in its own repository (Docker's rule), never whichever image has that digest.
    /// The digest of the multi-platform index a pull took the image from names it too, in the
    /// repository it was pulled from (`OCIImage.indexDigestAnnotation`).
    static func entry(_ digest: Digest, of reference: ImageReference, in manifests: [OCIImage.Descriptor]) -> OCIImage.Descriptor? {
        let pulledFrom = { (entry: OCIImage.Descriptor) in
            entry.annotations?[OCIImage.repositoryAnnotation].flatMap { try? ImageReference.parse($0) }?.name == reference.name
        }
        return manifests.first { entry in
            guard entry.digest == digest.description else { return false }
            if pulledFrom(entry) { return true }
            guard let tag = entry.annotations?[OCIImage.refNameAnnotation] else { return false }
            return (try? ImageReference.parse(tag))?.name == reference.name
        } ?? manifests.first { entry in
            entry.annotations?[OCIImage.indexDigestAnnotation] == digest.description && pulledFrom(entry)
        }
    }

    /// Points `reference` at `manifest`, replacing what the tag named before. An image that loses
    /// its last tag this way stays in the index untagged (dangling), still found by its id until
    /// pruned, as Docker keeps a `<none>` image; an untagged entry for `manifest` is dropped.
    public func tag(_ reference: ImageReference, manifest: OCIImage.Descriptor) throws {
        let name = reference.description
        var index = try index()
        let moved = index.manifests.filter { $0.annotations?[OCIImage.refNameAnnotation] == name }
        index.manifests.removeAll { $0.annotations?[OCIImage.refNameAnnotation] == name }
        index.manifests.removeAll { $0.digest == manifest.digest && $0.annotations?[OCIImage.refNameAnnotation] == nil }
        for old in moved where old.digest != manifest.digest {
            Self.keepUntagged(old, in: &index)
        }
        var entry = manifest
        var annotations = entry.annotations ?? [:]
        annotations[OCIImage.refNameAnnotation] = name
        entry.annotations = annotations
        index.manifests.append(entry)
        try writeIndex(index)
    }

    /// Removes a tag; the manifest stays in the index untagged when no other tag names it (so
    /// its id still finds it), and its blobs stay until garbage collection.
    /// Returns the descriptor the tag pointed at.
    @discardableResult
    public func untag(_ reference: ImageReference) throws -> OCIImage.Descriptor {
        let name = reference.description
        var index = try index()
        guard let at = index.manifests.firstIndex(where: { $0.annotations?[OCIImage.refNameAnnotation] == name }) else {
            throw ImageStoreError(.notFound, "no image \(name) in the store (see berth images)")
        }
        let removed = index.manifests.remove(at: at)
        Self.keepUntagged(removed, in: &index)
        try writeIndex(index)
        return removed
    }

    /// Adds an untagged entry for `descriptor`'s manifest unless some entry already names it.
    static func keepUntagged(_ descriptor: OCIImage.Descriptor, in index: inout OCIImage.Index) {
        guard !index.manifests.contains(where: { $0.digest == descriptor.digest }) else { return }
        var entry = descriptor
        entry.annotations?[OCIImage.refNameAnnotation] = nil
        if entry.annotations?.isEmpty == true { entry.annotations = nil }
        index.manifests.append(entry)
    }

    private func writeAtomically(_ file: String, _ bytes: [UInt8]) throws {
        do {
            try AtomicFile.replace(file, with: bytes, durable: true)
        } catch {
            throw ImageStoreError(.systemError, "cannot replace \(file) (\(error.call) \(error.path))", errno: error.errno)
        }
    }
}

func readFile(_ path: String) throws -> [UInt8] {
    do {
        return try FileIO.readFile(path)
    } catch {
        throw ImageStoreError(error.errno == ENOENT ? .notFound : .systemError, "cannot read \(path)", errno: error.errno)
    }
}
