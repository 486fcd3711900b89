/// Builds the ordered list of filesystem operations for a container. Pure: no system calls, so
/// the plan is unit-tested as data.
public enum MountPlan {
    /// - Parameters:
    ///   - consolePath: the host path of the pty slave when the container has a terminal; it is
    ///     bound onto /dev/console.
    ///   - cgroupMode: on cgroup v2 the container's own cgroup (its namespace root) is mounted
    ///     read-only at /sys/fs/cgroup.
    public static func operations(for config: ContainerConfig, cgroupMode: CgroupMode,
                                  consolePath: String?) -> [MountOperation] {
        var ops: [MountOperation] = []
        let hardened: MountFlags = [.noSuid, .noDev, .noExec]

        // A procfs of the container's own pid namespace.
        ops.append(.init(.mount(fstype: "proc", source: "proc", data: nil), target: "/proc", flags: hardened))

        // /dev is a small tmpfs with only the nodes a process expects, never the host's /dev.
        ops.append(.init(.mount(fstype: "tmpfs", source: "tmpfs", data: "mode=755,size=65536k"),
                         target: "/dev", flags: [.noSuid, .strictAtime]))
        for node in devices {
            ops.append(.init(.device(major: node.major, minor: node.minor, mode: 0o666, hostPath: "/dev/" + node.name),
                             target: "/dev/" + node.name))
        }
        // Host devices the container was given, as nodes of its own: the device list lets it open
        // these and no others (made here, in the plan, so --debug shows them).
        for node in config.devices {
            ops.append(.init(.device(major: node.major, minor: node.minor, mode: node.fileMode, hostPath: nil,
                                     block: node.kind == .block),
                             target: node.path))
        }
        // A private devpts instance: the container's ptys are invisible to the host and others.
        ops.append(.init(.mount(fstype: "devpts", source: "devpts",
                                data: "newinstance,ptmxmode=0666,mode=0620,gid=5"),
                         target: "/dev/pts", flags: [.noSuid, .noExec]))
        ops.append(.init(.symlink(to: "pts/ptmx"), target: "/dev/ptmx"))
        ops.append(.init(.mount(fstype: "tmpfs", source: "shm", data: "mode=1777,size=65536k"),
                         target: "/dev/shm", flags: hardened))
        ops.append(.init(.mount(fstype: "mqueue", source: "mqueue", data: nil),
                         target: "/dev/mqueue", flags: hardened, optional: !config.namespaces.contains(.ipc)))
        for (name, to) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                           ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")] {
            ops.append(.init(.symlink(to: to), target: "/dev/" + name))
        }
        if let consolePath {
            ops.append(.init(.bind(source: consolePath), target: "/dev/console", flags: [.noSuid, .noExec]))
        }

        // sysfs read-only; in the host's network namespace it would show the host's interfaces,
        // which is what `--network host` asks for.
        // A user namespace may mount sysfs only with a network namespace of its own; without one
        // the host's /sys is bound, read-only, as rootless podman does.
        if config.userNamespace != nil, !config.namespaces.contains(.network) {
            ops.append(.init(.bind(source: "/sys"), target: "/sys", flags: hardened.union(.readOnly)))
        } else {
            ops.append(.init(.mount(fstype: "sysfs", source: "sysfs", data: nil), target: "/sys",
                             flags: hardened.union(.readOnly)))
        }
        if cgroupMode == .unified, config.namespaces.contains(.cgroup) {
            ops.append(.init(.mount(fstype: "cgroup2", source: "cgroup2", data: nil), target: "/sys/fs/cgroup",
                             flags: hardened.union(.readOnly)))
        }

        // The user's binds, volumes, tmpfs and other filesystems, a parent before what is mounted below it (Docker
        // sorts them so too): stable, so mounts of one depth keep the order they were given in.
        let binds = config.bindMounts.map { bind -> MountOperation in
            var flags = bind.flags.union(bind.propagation?.flags ?? [])
            if bind.readOnly { flags.insert(.readOnly) }
            return MountOperation(.bind(source: bind.source, recursive: bind.recursive, idmap: bind.idmap),
                                  target: bind.destination, flags: flags, treeAttributes: bind.treeAttributes)
        }
        let tmpfs = config.tmpfsMounts.map { tmpfs in
            MountOperation(.mount(fstype: "tmpfs", source: "tmpfs",
                                  data: tmpfs.options.isEmpty ? nil : tmpfs.options.joined(separator: ",")),
                           target: tmpfs.destination, flags: tmpfs.flags, treeAttributes: tmpfs.treeAttributes, copyUp: tmpfs.copyUp)
        }
        let filesystems = config.filesystemMounts.map { mount in
            MountOperation(.mount(fstype: mount.type, source: mount.source,
                                  data: mount.options.isEmpty ? nil : mount.options.joined(separator: ",")),
                           target: mount.destination, flags: mount.flags, treeAttributes: mount.treeAttributes)
        }
        if config.mountOrder.isEmpty {
            let depth = { (op: MountOperation) in op.target.split(separator: "/").count }
            let ordered = (binds + tmpfs + filesystems).enumerated()
                .sorted { a, b in (depth(a.element), a.offset) < (depth(b.element), b.offset) }
            ops += ordered.map { $0.element }
        } else {
            // An OCI spec's order, as the runtime spec asks.
            ops += config.mountOrder.map { reference in
                switch reference {
                case .bind(let index): binds[index]
                case .tmpfs(let index): tmpfs[index]
                case .filesystem(let index): filesystems[index]
                }
            }
        }

        // Last, because they lie inside the filesystems mounted above.
        ops += config.maskedPaths.map { .init(.mask, target: $0) }
        ops += config.readOnlyPaths.map { .init(.readOnly, target: $0) }
        return ops
    }

    /// The device nodes every container gets (the OCI runtime spec's default devices).
    static let devices: [(name: String, major: UInt32, minor: UInt32)] = [
        ("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0),
    ]
}
