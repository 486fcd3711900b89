import SystemPackage

/// The sentences the drivers fail with, in one place so v1 and v2 read the same.
enum CgroupErrors {
    /// A limit file could not be written: a missing file means this kernel cannot apply the
    /// limit (`.unsupported`), anything else is the kernel refusing the value.
    static func limitNotApplied(_ controller: CgroupController, value: String, file: String,
                                error: Errno) -> RuntimeError {
        if error == .noSuchFileOrDirectory {
            return RuntimeError(.unsupported,
                                "cannot set \(controller.limitName): \(file) does not exist, so this kernel's "
                                    + "\(controller.rawValue) controller cannot apply it; \(controller.withoutLimit)")
        }
        return RuntimeError(.systemError, "cannot set \(controller.limitName): write \(value) to \(file)",
                            errno: error.rawValue)
    }

    static func system(_ stage: String, _ error: Errno) -> RuntimeError {
        RuntimeError(.systemError, stage, errno: error.rawValue)
    }

    static func notFound(_ action: String, _ path: CgroupPath) -> RuntimeError {
        RuntimeError(.notFound, "cannot \(action) cgroup \(path): it does not exist")
    }
}
