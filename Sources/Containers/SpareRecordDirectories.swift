import CFileSystem
import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// The directories of removed containers, kept for the next ones: `containers/.spare-N` for a
/// `--rootfs` container's, `containers/.spare-layered-N` for an image container's (N below
/// `slots`), holding the old record and launch spec as `config.spare` and `launch.spare`, and, in
/// a layered one, the overlay's `upper/` and `work/`, empty.
///
/// A run's record is a directory and two small files, and an image container's root two more
/// directories; removing them frees a block each, and on a file system mounted with `discard`
/// (as this project's machines' are) every freed block costs a synchronous discard, 0.15 to 1 ms
/// each: more than the rest of the record's cost. A new container takes a spare directory (one
/// rename) and writes its files into the spares' blocks (`AtomicFile.replace(_:with:reusing:)`);
/// a removal gives the directory back (two renames in it, one of it). Only directories that hold
/// nothing else are kept: an upper directory the container wrote to goes, and so does one
/// given to a user namespace's root. At most `slots` of each kind are kept.
/// A spare's name starts with '.', so no listing of containers sees it, and it holds no
/// `config.json`, so nothing reads it as a container.
struct SpareRecordDirectories {
    let store: ContainerStore
    /// Spares of image containers: with an empty `upper/` and `work/`.
    let layered: Bool

    static let slots = 4
    static let recordSpare = "config.spare"
    static let launchSpare = "launch.spare"

    private func slot(_ index: Int) -> String {
        store.containersDirectory + (layered ? "/.spare-layered-" : "/.spare-") + String(index)
    }

    /// Renames a spare directory to `directory` (which must not exist); false when there is none.
    func claim(as directory: String) -> Bool {
        for index in 0..<Self.slots where rename(slot(index), directory) == 0 {
            // A crash between a retirement's renames can have left a record in it.
            rename(directory + "/config.json", directory + "/" + Self.recordSpare)
            // Its age is now: until its record is written, a young directory without one is a
            // creation under way, which the tidy-up and the name check leave alone.
            utimensat(AT_FDCWD, directory, nil, 0)
            return true
        }
        return false
    }

    /// Makes the removed container's `directory` a spare when it holds only its record and launch
    /// spec (and an unused root, for a layered one) and a slot is free: it leaves the containers
    /// at once (renamed), then its files are renamed to their spare names. False when it was not
    /// kept (the caller removes it).
    func retire(_ directory: String) -> Bool {
        // A claimed spare whose container never got its record still holds the spare files.
        var kept: Set<String> = ["config.json", "launch.json", Self.recordSpare, Self.launchSpare]
        if layered { kept.formUnion(["upper", "work"]) }
        guard let names = try? Directory.names(atPath: directory), names.allSatisfy(kept.contains) else { return false }
        // Only as it was made: a user namespace's container opens its directory to others (0711).
        var st = stat()
        guard lstat(directory, &st) == 0, st.st_mode == S_IFDIR | ContainerStore.directoryMode, st.st_uid == 0 else { return false }
        if layered, !Self.emptyLayer(in: directory) { return false }
        for index in 0..<Self.slots where rename(directory, slot(index)) == 0 {
            let spare = slot(index)
            rename(spare + "/config.json", spare + "/" + Self.recordSpare)
            rename(spare + "/launch.json", spare + "/" + Self.launchSpare)
            return true
        }
        return false
    }

    /// Whether the container left its root as it found it: `upper/` empty, with the mode it was
    /// made with, and root's own (not given to a user namespace's root), and `work/` emptied of
    /// what overlayfs made there (`work/work`, with `incompat/volatile/dirty` after a volatile
    /// mount: a workdir that still holds them is refused at the next mount).
    private static func emptyLayer(in directory: String) -> Bool {
        let upper = directory + "/upper"
        let work = directory + "/work"
        for (path, mode) in [(upper, ContainerStore.upperMode), (work, ContainerStore.workMode)] {
            var st = stat()
            guard lstat(path, &st) == 0, st.st_mode == S_IFDIR | mode, st.st_uid == 0, st.st_gid == 0 else { return false }
        }
        guard (try? Directory.names(atPath: upper))?.isEmpty == true, onlyOverlayAttributes(upper) else { return false }
        guard (try? TreeRemoval.remove(work + "/work")) != nil else { return false }
        return (try? Directory.names(atPath: work))?.isEmpty == true
    }

    /// Whether the directory's extended attributes are only overlayfs' own (the mount records
    /// its `trusted.overlay.uuid` on the upper root): none set on the container's "/".
    private static func onlyOverlayAttributes(_ path: String) -> Bool {
        var names = [CChar](repeating: 0, count: 256)
        let length = names.withUnsafeMutableBufferPointer { CFileSystem.llistxattr(path, $0.baseAddress, $0.count) }
        guard length >= 0 else { return false }
        return names[..<length].split(separator: 0).allSatisfy { name in
            String(decoding: name.map { UInt8(bitPattern: $0) }, as: UTF8.self).hasPrefix("trusted.overlay.")
        }
    }
}
