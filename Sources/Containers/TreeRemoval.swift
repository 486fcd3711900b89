import FileSystem

/// rm -rf for a container's directory: FileTree's fd-based walk (never following a link a
/// container planted, never entering a mount), its failure said as the container store says it.
enum TreeRemoval {
    /// Removes `path` and everything below it; a path that does not exist is already removed.
    static func remove(_ path: String) throws(ContainerError) {
        do {
            try FileTree.remove(path)
        } catch {
            throw ContainerError(.systemError, "cannot remove \(path) completely: \(error)")
        }
    }
}
