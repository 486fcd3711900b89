import SystemPackage

/// Pause on v1: the container's cgroup in the freezer hierarchy, through its `freezer.state`.
extension CgroupV1Driver {
    public func freeze(_ path: CgroupPath) throws {
        let file = try freezerStateFile(of: path)
        try writeState(FreezerState.frozen, to: file, path, action: "freeze")
        let frozen = try CgroupFreezing.wait(timeout: freezeTimeout) { () throws(RuntimeError) -> Bool in
            if try readState(file, path) == FreezerState.frozen { return true }
            // Asked again on every look, as runc does: each write makes the kernel try again the
            // tasks that have not frozen yet, where FREEZING alone would wait on them for ever.
            try writeState(FreezerState.frozen, to: file, path, action: "freeze")
            return false
        }
        guard frozen else {
            try? ControlFile.write(FreezerState.thawed, to: file)
            throw CgroupFreezing.timedOut(path, after: freezeTimeout)
        }
    }

    public func thaw(_ path: CgroupPath) throws {
        // The kernel thaws every task within the write: there is nothing to wait for.
        try writeState(FreezerState.thawed, to: try freezerStateFile(of: path), path, action: "thaw")
    }

    public func isFrozen(_ path: CgroupPath) throws -> Bool {
        try readState(try freezerStateFile(of: path), path) != FreezerState.thawed
    }

    // MARK: - freezer.state

    private func freezerStateFile(of path: CgroupPath) throws(RuntimeError) -> String {
        hierarchyDirectory(of: .freezer) + (try relativeDirectory(of: path)) + "/freezer.state"
    }

    private func writeState(_ state: String, to file: String, _ path: CgroupPath, action: String) throws(RuntimeError) {
        do {
            try ControlFile.write(state, to: file)
        } catch .noSuchFileOrDirectory {
            throw missingFreezer(action, path)
        } catch {
            throw CgroupErrors.system("cannot \(action) cgroup \(path): write \(state) to \(file)", error)
        }
    }

    private func readState(_ file: String, _ path: CgroupPath) throws(RuntimeError) -> String {
        do {
            return String(ControlFile.words(try ControlFile.read(file)).first ?? "")
        } catch .noSuchFileOrDirectory {
            throw missingFreezer("read the freezer state of", path)
        } catch {
            throw CgroupErrors.system("cannot read the freezer state of cgroup \(path): read \(file)", error)
        }
    }

    /// A missing freezer.state: either the host has no freezer hierarchy, or the cgroup is gone.
    private func missingFreezer(_ action: String, _ path: CgroupPath) -> RuntimeError {
        let hierarchy = hierarchyDirectory(of: .freezer)
        guard ControlFile.exists(hierarchy) else {
            return RuntimeError(.unsupported, "cannot \(action) cgroup \(path): no cgroup v1 freezer hierarchy is mounted at "
                                + "\(hierarchy); mount one there to pause containers")
        }
        return CgroupErrors.notFound(action, path)
    }
}
