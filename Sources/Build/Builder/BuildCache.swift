import FileSystem
import ImageStore
#if canImport(Glibc)
import Glibc
#endif

/// The build cache: which image a step made, by the step's key (the image it started from, the
/// instruction after substitution with the ARGs in scope, and for COPY and ADD the digest of
/// what it copies). `<root>/build-cache/<key>` holds the image's manifest digest. The images
/// themselves are the store's (kept untagged in its index): an entry whose image a prune
/// removed is a miss, never a broken build.
public struct BuildCache: Sendable {
    public let directory: String
    let images: ImageStore

    public init(stateRoot: String, images: ImageStore) {
        directory = stateRoot + "/build-cache"
        self.images = images
    }

    /// The key of a step made of `parts`, on top of `parent` (nil: scratch).
    public static func key(parent: Digest?, _ parts: [String]) -> Digest {
        var digester = Digester()
        digester.update(Array((parent?.description ?? "scratch").utf8))
        for part in parts {
            // Lengths first: no two lists of parts hash alike.
            digester.update(Array("\n\(part.utf8.count):".utf8))
            digester.update(Array(part.utf8))
        }
        return digester.finalize()
    }

    /// The image cached for `key`, when it is still whole in the store.
    public func lookup(_ key: Digest) -> Digest? {
        let path = directory + "/" + key.hex
        guard let bytes = try? FileIO.readFile(path) else { return nil }
        guard let manifest = Digest(String(decoding: bytes, as: UTF8.self)), images.isComplete(manifest) else {
            // Its image was pruned (or the entry is damaged): the step is built again and
            // recorded anew.
            unlink(path)
            return nil
        }
        return manifest
    }

    /// Remembers that `key` made `manifest`. A lost entry costs a rebuild of its step only.
    public func record(_ key: Digest, manifest: Digest) {
        do {
            try Directory.make(directory, mode: 0o700)
            try AtomicFile.replace(directory + "/" + key.hex, with: Array(manifest.description.utf8), mode: 0o600,
                                   durability: .contents)
        } catch {
            // Only the next build's speed depends on it.
        }
    }
}
