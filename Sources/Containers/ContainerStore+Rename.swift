#if canImport(Glibc)
import Glibc
#endif

/// Renaming a container: the new name's link is made first (the kernel's atomic symlink is what
/// reserves a name, so a name in use is refused before anything changes), then the record is
/// replaced atomically, and last the old name's link goes. A crash between the steps leaves a
/// link whose container's record has another name: `removeIncomplete` drops it once it is a
/// minute old, and until then lookups by it fail (`find` checks the record's name).
extension ContainerStore {
    /// Gives `record`'s container the name `newName`; returns the record as stored.
    public func changeName(of record: ContainerRecord, to newName: String) throws -> ContainerRecord {
        try ContainerNames.check(newName)
        guard newName != record.name else {
            throw ContainerError(.invalidArgument, "container \(record.name) is already named \(newName): give another name")
        }
        let reserved = try reserveName(newName, for: record.id)
        var renamed = record
        renamed.name = reserved
        do {
            try write(renamed, durable: true)
        } catch {
            unlink(namesDirectory + "/" + reserved)
            throw error
        }
        let oldLink = namesDirectory + "/" + record.name
        if readNameLink(oldLink) == record.id { unlink(oldLink) }
        return renamed
    }

    /// A name link to a container whose record has another name (a rename cut short), older
    /// than a minute: a younger one may be a rename in progress.
    func isLeftOverName(_ name: String, of id: String) -> Bool {
        guard let record = try? load(id: id), record.name != name else { return false }
        var st = stat()
        guard lstat(namesDirectory + "/" + name, &st) == 0 else { return false }
        return time(nil) - st.st_mtim.tv_sec > 60
    }
}
