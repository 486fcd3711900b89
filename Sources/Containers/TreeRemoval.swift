import CFileSystem
#if canImport(Glibc)
import Glibc
#endif

/// rm -rf for a container's directory: depth first, never following a symlink, and never
/// entering another filesystem (should something be mounted inside, it is left alone rather than
/// emptied).
enum TreeRemoval {
    /// Removes `path` and everything below it; a path that does not exist is already removed.
    static func remove(_ path: String) throws {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT { return }
            throw ContainerError.system("cannot remove \(path)")
        }
        _ = berth_remove_tree(path)
        if lstat(path, &st) == 0 {
            throw ContainerError(.systemError, "cannot remove \(path) completely: something in it is busy or mounted")
        }
    }
}
