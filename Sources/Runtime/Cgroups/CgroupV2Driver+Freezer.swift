import SystemPackage

/// Pause on v2: every non-root cgroup has `cgroup.freeze` (Linux 5.2), and `cgroup.events` says
/// `frozen 1` once all of its processes are frozen.
extension CgroupV2Driver {
    public func freeze(_ path: CgroupPath) throws {
        let leaf = try directory(of: path)
        try writeFreeze("1", in: leaf, path, action: "freeze")
        let frozen = try CgroupFreezing.wait(timeout: freezeTimeout) { () throws(RuntimeError) -> Bool in
            try readsFrozen(leaf, path)
        }
        guard frozen else {
            try? ControlFile.write("0", to: leaf + "/cgroup.freeze")
            throw CgroupFreezing.timedOut(path, after: freezeTimeout)
        }
    }

    public func thaw(_ path: CgroupPath) throws {
        try writeFreeze("0", in: try directory(of: path), path, action: "thaw")
    }

    /// cgroup.freeze holds what was asked, which is what pause means; cgroup.events' `frozen`
    /// says only whether the kernel has got there yet.
    public func isFrozen(_ path: CgroupPath) throws -> Bool {
        let leaf = try directory(of: path)
        let file = leaf + "/cgroup.freeze"
        do {
            return ControlFile.words(try ControlFile.read(file)).first == "1"
        } catch .noSuchFileOrDirectory {
            throw missingFreeze("read the freezer state of", leaf, path)
        } catch {
            throw CgroupErrors.system("cannot read the freezer state of cgroup \(path): read \(file)", error)
        }
    }

    // MARK: - cgroup.freeze and cgroup.events

    private func writeFreeze(_ value: String, in leaf: String, _ path: CgroupPath, action: String) throws(RuntimeError) {
        let file = leaf + "/cgroup.freeze"
        do {
            try ControlFile.write(value, to: file)
        } catch .noSuchFileOrDirectory {
            throw missingFreeze(action, leaf, path)
        } catch {
            throw CgroupErrors.system("cannot \(action) cgroup \(path): write \(value) to \(file)", error)
        }
    }

    private func readsFrozen(_ leaf: String, _ path: CgroupPath) throws(RuntimeError) -> Bool {
        let file = leaf + "/cgroup.events"
        do {
            return CgroupEventsParser.value(of: "frozen", in: try ControlFile.read(file)) == 1
        } catch {
            throw CgroupErrors.system("cannot freeze cgroup \(path): read \(file)", error)
        }
    }

    /// A missing cgroup.freeze: either the kernel predates the v2 freezer, or the cgroup is gone.
    private func missingFreeze(_ action: String, _ leaf: String, _ path: CgroupPath) -> RuntimeError {
        guard ControlFile.exists(leaf) else { return CgroupErrors.notFound(action, path) }
        return RuntimeError(.unsupported, "cannot \(action) cgroup \(path): \(leaf)/cgroup.freeze does not exist; "
                            + "pausing containers on cgroup v2 needs Linux 5.2 or later")
    }
}
