extension CgroupV1Driver {
    /// Writes a device list into a v1 devices cgroup, one rule per write (the kernel takes one
    /// line at a time). The list starts from "every device denied" unless its first rule says what
    /// every device gets: a new cgroup inherits its parent's list, and a leaf left by a crash keeps
    /// its own, and neither is what the container asked for. This runs in `create`, before the
    /// container's first process is attached and released, so nothing runs under an older list.
    func applyDevices(_ rules: [DeviceRule], in leaf: String) throws(RuntimeError) {
        if rules.first?.kind != .all {
            try writeDeviceRule(DeviceRule(allow: false, kind: .all), in: leaf)
        }
        for rule in rules { try writeDeviceRule(rule, in: leaf) }
    }

    private func writeDeviceRule(_ rule: DeviceRule, in leaf: String) throws(RuntimeError) {
        let file = leaf + (rule.allow ? "/devices.allow" : "/devices.deny")
        do {
            try ControlFile.write(rule.v1Line, to: file)
        } catch {
            throw CgroupErrors.limitNotApplied(.devices, value: rule.v1Line, file: file, error: error)
        }
    }
}
