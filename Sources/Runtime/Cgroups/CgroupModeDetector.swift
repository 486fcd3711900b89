/// Tells at start-up whether the host runs pure cgroup v2 or v1 controllers, with one syscall.
public enum CgroupModeDetector {
    /// Where the kernel's cgroup filesystems are mounted on every mainstream distribution.
    public static let defaultRoot = "/sys/fs/cgroup"

    /// `.unified` when `root` itself is a cgroup2 mount; everything else is `.legacy`: a tmpfs
    /// holding v1 hierarchies, including the hybrid layout whose cgroup2 mount sits at
    /// `root/unified` without the memory, cpu and pids controllers (crun refuses to run there at
    /// all; we use the v1 hierarchies). A root that cannot be examined is also `.legacy`, so a
    /// command that needs no cgroup still runs and one that does fails with the v1 driver's
    /// sentence about the missing hierarchy.
    ///
    /// The test is the presence of `root/cgroup.controllers`, which only the root of a cgroup2
    /// mount has (v1 hierarchies and the tmpfs above them never do). It answers the same as
    /// statfs == CGROUP2_SUPER_MAGIC at the same cost, and Glibc's Swift module does not export
    /// statfs.
    public static func detect(root: String = defaultRoot) -> CgroupMode {
        ControlFile.exists(root + "/cgroup.controllers") ? .unified : .legacy
    }
}
