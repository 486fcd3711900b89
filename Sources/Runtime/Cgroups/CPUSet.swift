/// The CPUs and memory nodes a container may run on, in the kernel's list form ("0-3,6"):
/// cpuset.cpus and cpuset.mems. nil leaves that file as the cgroup inherits it.
public struct CPUSet: Sendable, Equatable {
    public var cpus: String?
    public var mems: String?

    public init(cpus: String? = nil, mems: String? = nil) {
        self.cpus = cpus
        self.mems = mems
    }

    /// The spec's cpu.cpus and cpu.mems; an empty list is unset, as runc reads it. nil when
    /// neither is set.
    init?(oci cpu: OCIRuntimeSpec.Linux.CPU) {
        let cpus = cpu.cpus.flatMap { $0.isEmpty ? nil : $0 }
        let mems = cpu.mems.flatMap { $0.isEmpty ? nil : $0 }
        guard cpus != nil || mems != nil else { return nil }
        self.init(cpus: cpus, mems: mems)
    }

    /// Rejects what the kernel would refuse with a bare EINVAL, naming the setting: each list is
    /// comma-separated numbers or ascending ranges ("0-3,6").
    func validate() throws(RuntimeError) {
        for (name, list) in [("cpuset cpus", cpus), ("cpuset mems", mems)] {
            guard let list, !Self.isList(list) else { continue }
            throw RuntimeError(.invalidArgument, "\(name) \"\(list)\" is not a list such as 0-3,6: "
                               + "give numbers and ascending ranges separated by commas")
        }
    }

    /// "0", "0-3", "0-3,6,8-9"; not "", "3-1", "a", "1,,2".
    static func isList(_ list: String) -> Bool {
        guard !list.isEmpty else { return false }
        return list.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { item in
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            let numbers = bounds.compactMap { $0.allSatisfy { $0.isASCII && $0.isNumber } ? UInt32($0) : nil }
            guard numbers.count == bounds.count else { return false }
            return numbers.count == 1 || (numbers.count == 2 && numbers[0] <= numbers[1])
        }
    }
}
