import BerthErrors
import FileSystem
import JSON
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// An OCI bundle: a directory with `config.json` (the runtime spec) and the root filesystem it
/// names. Read once and checked into the `ContainerConfig` the launcher takes; what berth
/// cannot do is refused here, with the spec's key, before anything is created.
public struct OCIBundle: Sendable {
    /// The bundle directory, absolute.
    public let directory: String
    public let spec: OCIRuntimeSpec

    /// Reads `<directory>/config.json`.
    public static func load(_ directory: String) throws -> OCIBundle {
        let absolute = try absolutePath(directory)
        let path = absolute + "/config.json"
        let bytes: [UInt8]
        do { bytes = try FileIO.readFile(path) } catch {
            throw RuntimeError(.notFound, "cannot read the bundle's spec \(path): \(error.reason); "
                               + "give the bundle directory with --bundle (berth-oci spec writes a config.json)")
        }
        do {
            return OCIBundle(directory: absolute, spec: try JSON.decode(OCIRuntimeSpec.self, from: bytes))
        } catch {
            throw RuntimeError(.invalidArgument, "the bundle's spec \(path) is not a runtime spec: \(error)")
        }
    }

    public init(directory: String, spec: OCIRuntimeSpec) {
        self.directory = directory
        self.spec = spec
    }

    /// root.path, relative to the bundle or absolute.
    public var rootfs: String {
        let path = spec.root?.path ?? "rootfs"
        return path.hasPrefix("/") ? path : directory + "/" + path
    }

    /// linux.cgroupsPath below each hierarchy's root; `berth-oci/<id>` when the spec has none.
    /// systemd's `slice:prefix:name` form needs the systemd driver, which berth does not have.
    public func cgroupPath(id: String) throws -> CgroupPath {
        guard let given = spec.linux?.cgroupsPath, !given.isEmpty else { return CgroupPath("berth-oci/" + id) }
        if given.contains(":") {
            throw RuntimeError(.unsupported, "linux.cgroupsPath \"\(given)\" is systemd's slice:prefix:name form; "
                               + "berth-oci drives cgroupfs only: give a path such as /machine/\(id) "
                               + "(podman: --cgroup-manager cgroupfs; containerd: SystemdCgroup = false)")
        }
        return CgroupPath(given)
    }

    /// The container's launch description. The spec's own /proc, /dev, /dev/pts, /dev/shm,
    /// /dev/mqueue, /sys and /sys/fs/cgroup filesystems are the ones berth's mount plan always
    /// makes (`MountPlan`), so they are taken as given by it rather than mounted twice; a bind
    /// at one of those places (podman's /dev/shm) is still bound over berth's.
    ///
    /// An ambient capability outside the inheritable or permitted set cannot be raised (the
    /// kernel refuses it); runc drops it with a warning, and so does this, through `warn`
    /// (runc's own default spec asks for such ambient capabilities).
    ///
    /// `cgroupMode` says whether memory.swappiness can be applied: cgroup v2 has no such file,
    /// and runc ignores the setting there with a warning, as this does.
    ///
    /// uidMappings and gidMappings beside a user namespace joined by path are that namespace's
    /// own or refused (runc's rule, kept for containerd and CRI-O, which pass both).
    public func containerConfig(id: String, cgroupMode: CgroupMode = .legacy,
                                warn: (String) -> Void = { _ in }) throws -> ContainerConfig {
        try checkSupported(cgroupMode: cgroupMode)
        try checkJoinedUserNamespaceMappings(warn: warn)
        var plain = spec
        plain.root?.path = rootfs
        if let caps = plain.process?.capabilities, let ambient = caps.ambient {
            let raisable = Set(caps.inheritable ?? []).intersection(caps.permitted ?? [])
            let dropped = ambient.filter { !raisable.contains($0) }
            if !dropped.isEmpty {
                warn("process.capabilities.ambient \(dropped.joined(separator: ", ")) not raised: "
                     + "an ambient capability must be inheritable and permitted too")
                plain.process?.capabilities?.ambient = ambient.filter { raisable.contains($0) }
            }
        }
        plain.mounts = spec.mounts?.filter { mount in
            let isBind = mount.type == "bind" || (mount.options ?? []).contains { $0 == "bind" || $0 == "rbind" }
            return isBind || !Self.providedByBerth.contains(mount.destination)
        }
        if cgroupMode == .unified, let swappiness = plain.linux?.resources?.memory?.swappiness {
            warn("linux.resources.memory.swappiness \(swappiness) not applied: cgroup v2 has no swappiness setting")
            plain.linux?.resources?.memory?.swappiness = nil
        }
        var config = try ContainerConfig(id: id, oci: plain, keepingMountOrder: true)
        // runc's rule: the devices every container has (null, zero, tty, ...) stay allowed after
        // the spec's own list, which usually starts by denying everything.
        if spec.linux?.resources?.devices != nil {
            config.resources.devices = (config.resources.devices ?? []) + DeviceRule.containerDefault
        }
        return config
    }

    static let providedByBerth: Set<String> = [
        "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup",
    ]

    /// The spec's keys that the conversion has no place for: refused, never ignored.
    func checkSupported(cgroupMode: CgroupMode) throws {
        func refuse(_ key: String, _ why: String) -> RuntimeError {
            RuntimeError(.unsupported, "the bundle's spec sets \(key), which berth-oci does not support: \(why)")
        }
        // runc's rules: the names are set only in a UTS namespace of the container's, new or joined
        // by path; and mappings only for a user namespace of its own.
        let namespaces = spec.linux?.namespaces ?? []
        for (key, value) in [("hostname", spec.hostname), ("domainname", spec.domainname)]
        where !(value ?? "").isEmpty && !namespaces.contains(where: { $0.type == "uts" }) {
            throw RuntimeError(.invalidArgument, "the bundle's spec sets \(key) without a uts namespace, where it would "
                               + "change the host's: add {\"type\": \"uts\"} to linux.namespaces, or a path to join one")
        }
        if spec.linux?.uidMappings != nil || spec.linux?.gidMappings != nil, !namespaces.contains(where: { $0.type == "user" }) {
            throw RuntimeError(.invalidArgument, "the bundle's spec sets linux.uidMappings or gidMappings without a user "
                               + "namespace to map: add {\"type\": \"user\"} to linux.namespaces, or remove them")
        }
        guard let linux = spec.linux else { return }
        if let propagation = linux.rootfsPropagation, !["", "private", "rprivate", "slave", "rslave"].contains(propagation) {
            throw refuse("linux.rootfsPropagation \"\(propagation)\"", "berth's root is always private (or slave)")
        }
        for key in (linux.sysctl ?? [:]).keys.sorted() {
            guard let namespace = SysctlNamespace(key: key) else {
                throw refuse("linux.sysctl \(key)", "it is not kept per namespace, so it would change the host; only net.* "
                             + "and the IPC namespace's kernel.msg*, kernel.sem, kernel.shm* and fs.mqueue.* are written")
            }
            // runc's rule for the IPC settings: only in the container's own IPC namespace.
            if namespace == .ipc, !(linux.namespaces ?? []).contains(where: { $0.type == "ipc" && $0.path == nil }) {
                throw RuntimeError(.invalidArgument, "the bundle's spec sets linux.sysctl \(key), an IPC namespace setting, "
                                   + "without a new ipc namespace, where it would change the host's: "
                                   + "add {\"type\": \"ipc\"} to linux.namespaces")
            }
        }
        guard let resources = linux.resources else { return }
        if let memory = resources.memory {
            let instead = "set limit, reservation or swappiness"
            if memory.kernel != nil || memory.kernelTCP != nil { throw refuse("linux.resources.memory.kernel", instead) }
            if memory.disableOOMKiller == true { throw refuse("linux.resources.memory.disableOOMKiller", instead) }
        }
        if let cpu = resources.cpu {
            if cpu.realtimeRuntime != nil || cpu.realtimePeriod != nil || cpu.burst != nil || cpu.idle != nil {
                throw refuse("linux.resources.cpu's realtime, burst or idle settings", "set quota, period, shares, cpus or mems")
            }
        }
        // runc's rules: v2 has no net_cls or net_prio, and v1 no unified files.
        if cgroupMode == .unified, resources.network != nil {
            throw refuse("linux.resources.network", "cgroup v2, this host's, has no net_cls or net_prio controller; remove it")
        }
        if cgroupMode == .legacy, !(resources.unified ?? [:]).isEmpty {
            throw refuse("linux.resources.unified", "it holds cgroup v2 files, and this host's cgroups are v1; "
                         + "set the limits through memory, cpu, pids, blockIO and hugepageLimits instead")
        }
    }

    /// A user namespace joined by path has its mappings already: ones the spec gives as well must
    /// be those, in the same order (runc warns then, and refuses any other).
    func checkJoinedUserNamespaceMappings(warn: (String) -> Void) throws {
        guard let linux = spec.linux, linux.uidMappings != nil || linux.gidMappings != nil,
              let path = linux.namespaces?.first(where: { $0.type == "user" })?.path else { return }
        let joined = try UserNamespace.mappings(ofNamespaceAt: path)
        guard joined.uidMappings == (linux.uidMappings ?? []), joined.gidMappings == (linux.gidMappings ?? []) else {
            func listed(_ mappings: [IDMapping]) -> String {
                mappings.isEmpty ? "none" : mappings.map { "\($0.containerID) \($0.hostID) \($0.size)" }.joined(separator: ", ")
            }
            throw RuntimeError(.invalidArgument, "the bundle's spec joins the user namespace at \(path) and gives "
                               + "uidMappings [\(listed(linux.uidMappings ?? []))] and gidMappings [\(listed(linux.gidMappings ?? []))], "
                               + "which are not that namespace's (uid_map [\(listed(joined.uidMappings))], gid_map "
                               + "[\(listed(joined.gidMappings))]): give either the path or the mappings, not both")
        }
        warn("linux.uidMappings and gidMappings are those of the user namespace joined at \(path), so they change nothing: "
             + "give either the path or the mappings")
    }

    static func absolutePath(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else {
            throw RuntimeError(.notFound, "the bundle directory \(path) does not exist: give an existing directory with --bundle",
                               errno: errno)
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
