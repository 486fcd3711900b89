import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// Images something outside the store still needs when no container uses them: a proxied
/// service's deploy record names the version it runs and the one its rollback goes back to.
/// `holds/<holder>` gives the holder's reason on its first line and the images' manifest
/// digests on the next. Prune keeps held images as it keeps the ones containers use; rmi
/// refuses them (with -f it only untags them, so their id still finds them) until the holder
/// lets them go.
extension ImageStore {
    var holdsDirectory: String { root + "/holds" }

    /// Holds `images` (names or ids) for `holder` (letters, digits, '-', '_' and '.'), in place of
    /// what it held; `reason` is how a refusal names the holder. An image no longer in the store
    /// is left out: there is nothing to keep.
    public func hold(_ images: [String], for holder: String, reason: String) throws {
        guard !holder.isEmpty, !holder.hasPrefix("."),
              holder.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
        else {
            throw ImageStoreError(.invalidArgument, "image holder \"\(holder)\" must be letters, digits, '-', '_' and '.'")
        }
        // Under the shared lock: a prune, which holds the exclusive one, sees the hold whole or not at all.
        try locked(.shared) {
            var digests: [String] = []
            for image in images {
                guard let found = try? findImage(try ImageName.parse(image)) else { continue }
                if !digests.contains(found.manifestDigest.description) { digests.append(found.manifestDigest.description) }
            }
            let path = holdsDirectory + "/" + holder
            let text = ([reason.filter { $0 != "\n" }] + digests).map { $0 + "\n" }.joined()
            do throws(FileSystemError) {
                try Directory.make(holdsDirectory, mode: 0o700)
                try AtomicFile.replace(path, with: Array(text.utf8), mode: 0o600, durable: true)
            } catch {
                throw ImageStoreError(.systemError, "cannot write the image hold \(path) (\(error.call))", errno: error.errno)
            }
        }
    }

    /// Lets go of what `holder` held; a holder that holds nothing is fine.
    public func releaseHold(_ holder: String) {
        guard !holder.isEmpty, !holder.contains("/"), !holder.hasPrefix(".") else { return }
        unlink(holdsDirectory + "/" + holder)
    }

    /// Every held image's manifest digest, with the reason of a holder of it.
    func heldImages() -> [Digest: String] {
        var held: [Digest: String] = [:]
        for name in listDirectory(holdsDirectory) {
            guard let bytes = try? FileIO.readFile(holdsDirectory + "/" + name) else { continue }
            let lines = bytes.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
            guard let reason = lines.first else { continue }
            for line in lines.dropFirst() {
                if let digest = Digest(line) { held[digest] = reason }
            }
        }
        return held
    }
}
