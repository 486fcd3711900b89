import SystemPackage

extension CgroupV2Driver {
    /// Attaches the device list as the cgroup's eBPF device program. The attach has no flags, so
    /// a later one (a leaf left by a crash and made again) replaces the program in one step:
    /// there is never a moment with none, and never two stacked.
    func attachDevices(_ rules: [DeviceRule], to directoryFD: Int32, leaf: String) throws(RuntimeError) {
        do {
            try syscalls.attachDeviceProgram(directoryFD, DeviceProgram.instructions(for: rules))
        } catch {
            let reason = error.verifierLog.isEmpty ? "" : " (the kernel's verifier said: \(Self.lastLine(of: error.verifierLog)))"
            // A kernel without CONFIG_CGROUP_BPF has no such program type or attach type.
            let unsupported = error.errno == .notSupported || error.errno == .noSuchFileOrDirectory
                || (error.errno == .invalidArgument && error.verifierLog.isEmpty)
            if unsupported {
                throw RuntimeError(.unsupported,
                                   "cannot set the device list of cgroup \(leaf): this kernel cannot attach an eBPF device "
                                       + "program (CONFIG_CGROUP_BPF); \(CgroupController.devices.withoutLimit)",
                                   errno: error.errno.rawValue)
            }
            throw RuntimeError(.systemError, "cannot set the device list of cgroup \(leaf): bpf\(reason)",
                               errno: error.errno.rawValue)
        }
    }

    /// The verifier's log ends with the sentence that matters.
    private static func lastLine(of log: String) -> String {
        log.split(separator: "\n").last.map(String.init) ?? log
    }
}
