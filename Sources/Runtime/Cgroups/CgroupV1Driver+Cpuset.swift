import SystemPackage

/// The v1 cpuset hierarchy, used only by a container that asks for CPUs or memory nodes.
///
/// A new v1 cpuset cgroup starts with empty cpuset.cpus and cpuset.mems, and the kernel refuses
/// to put a task into it (ENOSPC) until both are set; so every level made on the way down gets
/// its parent's lists copied, as runc does, before the leaf gets the ones asked for.
extension CgroupV1Driver {
    /// Makes the container's cpuset cgroup and writes `cpuset` to it; the leaf, for the child
    /// to join. A missing cpuset hierarchy is `.unsupported`.
    func makeCpusetLeaf(_ components: [String], _ cpuset: CPUSet,
                        createdIn: inout [String]) throws(RuntimeError) -> String {
        let hierarchy = hierarchyDirectory(of: .cpuset)
        guard let leaf = try makeLeaf(components, in: hierarchy, createdIn: &createdIn) else {
            throw RuntimeError(.unsupported, "cannot set the \(CgroupController.cpuset.limitName): no cgroup v1 cpuset "
                               + "hierarchy is mounted at \(hierarchy); mount one there or remove cpu.cpus and cpu.mems")
        }
        var parent = hierarchy
        for component in components {
            let level = parent + "/" + component
            for file in ["cpuset.cpus", "cpuset.mems"] { try inherit(file, from: parent, to: level) }
            parent = level
        }
        if let cpus = cpuset.cpus { try write(cpus, to: leaf + "/cpuset.cpus", for: .cpuset) }
        if let mems = cpuset.mems { try write(mems, to: leaf + "/cpuset.mems", for: .cpuset) }
        return leaf
    }

    /// The container's cpuset cgroup when it has one: a container that did not ask for a
    /// cpuset has none, and a process joining it (exec) joins the others only.
    func existingCpusetLeaf(_ relative: String) -> String? {
        let leaf = hierarchyDirectory(of: .cpuset) + relative
        return ControlFile.exists(leaf) ? leaf : nil
    }

    /// Copies `file` from `parent` when `level`'s is empty (a level just made); a level that
    /// already has its list (shared with other containers) keeps it.
    private func inherit(_ file: String, from parent: String, to level: String) throws(RuntimeError) {
        let own: String
        do throws(Errno) { own = try ControlFile.read(level + "/" + file) } catch {
            throw CgroupErrors.system("cannot set up cpuset cgroup: read \(level)/\(file)", error)
        }
        guard own.allSatisfy(\.isWhitespace) else { return }
        let inherited: String
        do throws(Errno) { inherited = try ControlFile.read(parent + "/" + file) } catch {
            throw CgroupErrors.system("cannot set up cpuset cgroup: read \(parent)/\(file)", error)
        }
        try write(String(inherited.filter { !$0.isWhitespace }), to: level + "/" + file, for: .cpuset)
    }
}
