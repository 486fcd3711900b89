import FileSystem
import SystemPackage

/// The levels above a container's cgroup that berth made for it: a `--cgroup-parent a/b` that
/// did not exist. berth marks each level its own mkdir makes, and removes the marked levels with
/// the container's cgroup once they are empty, deepest first, by rmdir alone: a level that still
/// holds another container's cgroup (or anything else) is busy and stays, and the first level
/// without the mark ends the walk, so a parent that existed before berth came is never touched
/// (runc and Docker leave existing parents alone too).
///
/// The mark is an xattr on the cgroup directory itself: it lives exactly as long as the level,
/// survives a crash of the berth that made it, and any berth process removing the last container
/// below the level sees it. A trusted.* name, which only a process with CAP_SYS_ADMIN can set, so
/// a process inside a container cannot mark a host cgroup for berth to remove.
///
/// berth's own parent (`CgroupPath.containerParent`) is never marked: every container shares it
/// by default, and making and removing it around each run would cost a mkdir and an rmdir per
/// hierarchy (about 1 ms on v1) for nothing; Docker keeps its `docker` parent the same way.
struct CgroupAncestors {
    static let markName = "trusted.berth.created"
    /// How many times a walk is started again when a level it had found vanished under it (a
    /// concurrent removal of another container's last cgroup below a marked level).
    static let attempts = 8

    let syscalls: CgroupSyscalls

    /// Whether the level at `index` of `components`, which berth has just made, gets the mark.
    func marks(_ components: [String], at index: Int) -> Bool {
        index < components.count - 1 && !(index == 0 && components[0] == CgroupPath.containerParent)
    }

    /// Marks a level berth has just made. Best effort: a level left unmarked (a file system
    /// without trusted xattrs) only stays after its containers, as every level did before.
    func mark(_ directory: String) {
        syscalls.mark(directory)
    }

    /// Removes the marked levels above the leaf of `components` under `base` (one hierarchy's
    /// root), deepest first, until one is unmarked, busy or gone.
    func removeMarked(_ components: [String], below base: String) {
        var levels = components.dropLast()
        while !levels.isEmpty {
            let directory = base + "/" + Array(levels).concatenated(separator: "/")
            guard syscalls.isMarked(directory) else { return }
            do {
                try syscalls.removeDirectory(directory)
            } catch {
                // EBUSY: another cgroup is still below it. Whoever removes that one removes this.
                return
            }
            levels = levels.dropLast()
        }
    }
}
