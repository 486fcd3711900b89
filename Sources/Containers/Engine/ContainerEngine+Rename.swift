/// `berth rename`.
extension ContainerEngine {
    /// Renames a container, running or not: its record and its name link (`ContainerStore.changeName`).
    /// Done under its lifecycle lock, so two renames of one container happen one after the other
    /// and a removal never runs between the new link and the record.
    public func rename(_ record: ContainerRecord, to newName: String) throws {
        let (lock, current) = try store.lockLifecycle(of: record)
        defer { lock.release() }
        _ = try store.changeName(of: current, to: newName)
    }
}
