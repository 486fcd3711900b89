import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// The directories of removed `--rootfs` containers, kept for the next ones: `containers/.spare-N`
/// (N below `slots`), holding the old record and launch spec as `config.spare` and `launch.spare`.
///
/// A run's record is a directory and two small files; removing them frees three blocks, and on a
/// file system mounted with `discard` (as this project's machines' are) every freed block costs a
/// synchronous discard, about a millisecond each: more than the rest of the record's cost. A new
/// `run --rootfs` takes a spare directory (one rename) and writes its files into the spares' blocks
/// (`AtomicFile.replace(_:with:reusing:)`); a removal gives the directory back (two renames in
/// it, one of it). Only directories that hold nothing else are kept, and at most `slots` of them.
/// A spare's name starts with '.', so no listing of containers sees it, and it holds no
/// `config.json`, so nothing reads it as a container.
struct SpareRecordDirectories {
    let store: ContainerStore

    static let slots = 4
    static let recordSpare = "config.spare"
    static let launchSpare = "launch.spare"

    private func slot(_ index: Int) -> String { store.containersDirectory + "/.spare-\(index)" }

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
    /// spec and a slot is free: it leaves the containers at once (renamed), then its files are
    /// renamed to their spare names. False when it was not kept (the caller removes it).
    func retire(_ directory: String) -> Bool {
        // A claimed spare whose container never got its record still holds the spare files.
        let kept: Set<String> = ["config.json", "launch.json", Self.recordSpare, Self.launchSpare]
        guard let names = try? Directory.names(atPath: directory), names.allSatisfy(kept.contains) else { return false }
        for index in 0..<Self.slots where rename(directory, slot(index)) == 0 {
            let spare = slot(index)
            rename(spare + "/config.json", spare + "/" + Self.recordSpare)
            rename(spare + "/launch.json", spare + "/" + Self.launchSpare)
            return true
        }
        return false
    }
}
