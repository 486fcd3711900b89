extension CgroupV1Driver {
    /// Writes a device list into a v1 devices cgroup, one rule per write (the kernel takes one
    /// line at a time), each run of rules for the same file through one open of it. The list
    /// starts from "every device denied" unless its first rule says what every device gets: a new
    /// cgroup inherits its parent's list, and a leaf left by a crash keeps its own, and neither is
    /// what the container asked for. This runs in `create`, before the container's first process
    /// is attached and released, so nothing runs under an older list.
    func applyDevices(_ rules: [DeviceRule], in leaf: String) throws(RuntimeError) {
        var rules = rules[...]
        if rules.first?.kind != .all {
            rules = [DeviceRule(allow: false, kind: .all)] + rules
        }
        while let first = rules.first {
            let run = rules.prefix { $0.allow == first.allow }
            rules = rules.dropFirst(run.count)
            let file = leaf + (first.allow ? "/devices.allow" : "/devices.deny")
            if let failure = ControlFile.writeEach(run.map(\.v1Line), to: file) {
                throw CgroupErrors.limitNotApplied(.devices, value: failure.failed, file: file, error: failure.error)
            }
        }
    }
}
