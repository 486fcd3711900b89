#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// `berth update` on both drivers: new limits written to a cgroup whose processes run, and the
/// processes of a cgroup for `berth top`. The limits are written by the same steps `create`
/// applies them with; what differs is the memory limit a running container may already exceed.
enum CgroupLimitUpdate {
    /// The sentence for a memory limit the processes already exceed: v1's write fails with EBUSY
    /// once the kernel's reclaim gives up, v2 is checked before its write (which would call the
    /// OOM killer instead).
    static func belowUsage(_ bytes: Int64, using: Int64?) -> RuntimeError {
        let use = using.map { " (they use \(ByteSize.describe($0)) that cannot be given back)" } ?? ""
        return RuntimeError(.invalidState,
                            "cannot lower the memory limit to \(ByteSize.describe(bytes)): its processes use more than that\(use); "
                                + "give a higher limit, or free memory in the container first")
    }

    /// A failed write as the user should read it: EBUSY from a memory limit is `belowUsage`.
    static func explained(_ error: RuntimeError, _ limits: ResourceLimits) -> RuntimeError {
        guard error.errno == EBUSY, let bytes = limits.memoryBytes else { return error }
        return belowUsage(bytes, using: nil)
    }

    /// The pids listed in a `cgroup.procs` file.
    static func pids(in file: String, _ path: CgroupPath) throws(RuntimeError) -> [pid_t] {
        do {
            return ControlFile.words(try ControlFile.read(file)).compactMap { pid_t($0) }
        } catch .noSuchFileOrDirectory {
            throw CgroupErrors.notFound("list the processes of", path)
        } catch {
            throw CgroupErrors.system("cannot list the processes of cgroup \(path): read \(file)", error)
        }
    }
}

extension CgroupV1Driver {
    public func update(_ path: CgroupPath, limits: ResourceLimits) throws {
        let relative = try relativeDirectory(of: path)
        try limits.validate()
        for controller in [CgroupController.memory, .cpu, .pids] where limits.requires(controller) {
            let hierarchy = hierarchyDirectory(of: controller)
            guard ControlFile.exists(hierarchy + relative) else {
                if ControlFile.exists(hierarchy) { throw CgroupErrors.notFound("update", path) }
                throw RuntimeError(.unsupported, "cannot set \(controller.limitName): no cgroup v1 \(controller.rawValue) "
                                   + "hierarchy is mounted at \(hierarchy); mount one there or \(controller.withoutLimit)")
            }
            do {
                try apply(limits.withoutDevices, of: controller, in: hierarchy + relative)
            } catch {
                throw CgroupLimitUpdate.explained(error, limits)
            }
        }
    }

    public func processes(in path: CgroupPath) throws -> [pid_t] {
        let relative = try relativeDirectory(of: path)
        // Every hierarchy holds the same processes: the first one the host has answers.
        for controller in CgroupController.allCases where ControlFile.exists(hierarchyDirectory(of: controller)) {
            return try CgroupLimitUpdate.pids(in: hierarchyDirectory(of: controller) + relative + "/cgroup.procs", path)
        }
        throw RuntimeError(.unsupported, "cannot list the processes of cgroup \(path): no cgroup v1 hierarchy is mounted at \(root)")
    }
}

extension CgroupV2Driver {
    public func update(_ path: CgroupPath, limits: ResourceLimits) throws {
        let components = try path.validatedComponents()
        let leaf = try directory(of: path)
        try limits.validate()
        guard ControlFile.exists(leaf) else { throw CgroupErrors.notFound("update", path) }
        // A container created without a CPU limit has no cpu controller: it is handed down to its
        // cgroup now, through every level above it (none of which holds processes).
        let controllers = try controllersToEnable(for: limits)
        var directory = root
        for component in components.dropLast() {
            try enable(controllers, below: directory)
            directory += "/" + component
        }
        try enable(controllers, below: directory)
        if let bytes = limits.memoryBytes { try refuseBelowUsage(bytes, leaf: leaf) }
        do {
            try apply(limits.withoutDevices, in: leaf)
        } catch {
            throw CgroupLimitUpdate.explained(error, limits)
        }
    }

    public func processes(in path: CgroupPath) throws -> [pid_t] {
        try CgroupLimitUpdate.pids(in: try directory(of: path) + "/cgroup.procs", path)
    }

    /// v2 takes a memory.max below the usage and reclaims, or OOM-kills when it cannot: what the
    /// processes hold beyond the page cache (which the kernel can drop) is refused here instead.
    private func refuseBelowUsage(_ bytes: Int64, leaf: String) throws(RuntimeError) {
        guard let current = (try? ControlFile.read(leaf + "/memory.current")).flatMap({ ControlFile.words($0).first })
            .flatMap({ Int64($0) }) else { return }
        let cache = (try? ControlFile.read(leaf + "/memory.stat")).flatMap { CgroupEventsParser.value(of: "file", in: $0) } ?? 0
        let held = current - cache
        if bytes < held { throw CgroupLimitUpdate.belowUsage(bytes, using: held) }
    }
}
