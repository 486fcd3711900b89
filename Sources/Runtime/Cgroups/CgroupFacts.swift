import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// What `berth info` says about the host's cgroups: the version in use and, for each controller
/// berth uses, whether it can use it and, when not, why. Read from the cgroup mount and
/// /proc/cgroups; nothing is created or written.
public struct CgroupFacts: Sendable, Equatable {
    /// How the host mounts cgroups, as `docker info` names it.
    public enum Layout: String, Sendable {
        /// Controllers on v1 hierarchies, no cgroup2 mount.
        case v1
        /// v1 hierarchies with a cgroup2 mount beside them (at `root/unified`), which berth does not use.
        case hybrid
        /// One cgroup2 hierarchy at the root.
        case v2
    }

    /// One controller: usable, or the reason it is not.
    public struct Controller: Sendable, Equatable {
        public let name: String
        /// nil when berth can use it.
        public let missing: String?
        /// How berth uses it, for one that is usable ("cgroup.freeze", "eBPF device program").
        public let note: String?

        public var isAvailable: Bool { missing == nil }
    }

    public let layout: Layout
    public let controllers: [Controller]

    /// The facts of the cgroup mount at `root`, with `/proc/cgroups` (`procCgroups`'s text) to
    /// tell a controller the kernel lacks from one it disabled or one that is not mounted, and
    /// `ownCgroup` (this process's v2 cgroup, from /proc/self/cgroup) to find a non-root cgroup.
    public static func gather(root: String = CgroupModeDetector.defaultRoot, procCgroups: String? = nil,
                              ownCgroup: String? = nil) -> CgroupFacts {
        if CgroupModeDetector.detect(root: root) == .unified {
            return CgroupFacts(layout: .v2, controllers: unifiedControllers(root: root, ownCgroup: ownCgroup ?? Self.ownCgroup()))
        }
        let layout: Layout = ControlFile.exists(root + "/unified/cgroup.controllers") ? .hybrid : .v1
        let table = procCgroups ?? (try? ControlFile.read("/proc/cgroups")) ?? ""
        return CgroupFacts(layout: layout, controllers: legacyControllers(root: root, layout: layout, procCgroups: table))
    }

    private static func unifiedControllers(root: String, ownCgroup: String) -> [Controller] {
        let file = root + "/cgroup.controllers"
        let available = ControlFile.words((try? ControlFile.read(file)) ?? "")
        var result: [Controller] = CgroupController.unifiedCases.map { controller in
            guard available.contains(Substring(controller.rawValue)) else {
                let listed = available.isEmpty ? "nothing" : available.joined(separator: " ")
                return Controller(name: controller.rawValue,
                                  missing: "not enabled in \(file) (it lists \(listed)): the kernel lacks it, it is "
                                      + "disabled on the kernel command line, or a v1 hierarchy holds it", note: nil)
            }
            return Controller(name: controller.rawValue, missing: nil, note: nil)
        }
        // The v2 freezer is a file of every non-root cgroup (Linux 5.2): this process's own
        // cgroup, or, when it runs in the root, any child of the root.
        let children = ((try? Directory.names(atPath: root)) ?? []).filter { ControlFile.exists(root + "/" + $0 + "/cgroup.procs") }
        let probe = ownCgroup != "/" && !ownCgroup.isEmpty ? root + ownCgroup : children.first.map { root + "/" + $0 }
        // With no cgroup but the root to look at (an init without systemd), the kernel's version says.
        if probe.map({ ControlFile.exists($0 + "/cgroup.freeze") }) ?? Self.kernelHasCgroupFreeze() {
            result.append(Controller(name: "freezer", missing: nil, note: "cgroup.freeze"))
        } else {
            result.append(Controller(name: "freezer", missing: "no cgroup.freeze in \(probe ?? root): pausing containers on "
                                         + "cgroup v2 needs Linux 5.2 or later", note: nil))
        }
        result.append(Controller(name: "devices", missing: nil, note: "eBPF device program"))
        return result
    }

    /// Linux 5.2 or later: the release uname(2) reports, "6.12.8-...".
    static func kernelHasCgroupFreeze() -> Bool {
        var names = utsname()
        guard uname(&names) == 0 else { return false }
        let release = withUnsafeBytes(of: names.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let numbers = release.split(separator: ".").prefix(2).map { Int($0.prefix(while: \.isNumber)) ?? 0 }
        guard numbers.count == 2 else { return false }
        return numbers[0] > 5 || (numbers[0] == 5 && numbers[1] >= 2)
    }

    private static func legacyControllers(root: String, layout: Layout, procCgroups: String) -> [Controller] {
        let hierarchies = CgroupV1Driver(root: root)
        return CgroupController.allCases.map { controller in
            let directory = hierarchies.hierarchyDirectory(of: controller)
            if ControlFile.exists(directory + "/cgroup.procs") {
                return Controller(name: controller.rawValue, missing: nil, note: nil)
            }
            return Controller(name: controller.rawValue,
                              missing: legacyReason(controller, directory: directory, layout: layout, procCgroups: procCgroups),
                              note: nil)
        }
    }

    /// Why a v1 controller's hierarchy is missing, from its /proc/cgroups line
    /// ("subsys_name hierarchy num_cgroups enabled").
    private static func legacyReason(_ controller: CgroupController, directory: String, layout: Layout,
                                     procCgroups: String) -> String {
        let line = procCgroups.split(separator: "\n").map { ControlFile.words(String($0)) }
            .first { $0.first == Substring(controller.rawValue) }
        guard let line, line.count >= 4 else { return "not built into this kernel (/proc/cgroups does not list it)" }
        if line[3] == "0" { return "disabled on the kernel command line (cgroup_disable=\(controller.rawValue))" }
        if line[1] == "0", layout == .hybrid {
            return "bound to the cgroup v2 hierarchy at \(directory.dropLast(controller.rawValue.count))unified, which berth "
                + "does not use on a hybrid host"
        }
        return "no cgroup v1 hierarchy is mounted at \(directory)"
    }

    /// This process's cgroup on the unified hierarchy ("0::/user.slice/…"), "/" when unknown.
    private static func ownCgroup() -> String {
        let text = (try? ControlFile.read("/proc/self/cgroup")) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("0::") { return String(line.dropFirst(3)) }
        return "/"
    }
}
