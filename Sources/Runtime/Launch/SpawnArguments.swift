import CSpawn
#if canImport(Glibc)
import Glibc
#endif

/// The C form of a container's launch: `berth_spawn_config` and every string and array it points
/// to, allocated in the parent before clone and freed when this object goes away. The child gets
/// a copy of this memory and only reads it.
final class SpawnArguments {
    private(set) var config = berth_spawn_config()
    private var allocations: [UnsafeMutableRawPointer] = []

    init(container c: ContainerConfig, operations: [MountOperation], stdio: (Int32, Int32, Int32),
         controllingTerminal: Bool, placement: CgroupPlacement, unshareCgroup: Bool, seccomp: [UInt8]?, lastCap: Int32,
         overlayShortNames: [String]?, entry: Int32, joining target: Int32? = nil, startFD: Int32 = 0,
         outlivesCaller: Bool = false, namespaceFiles: NamespaceFiles? = nil, pauseBeforePivot: Bool = false) {
        config.namespaces = c.namespaces.cloneFlags | (c.userNamespace != nil ? berth_clone_newuser : 0)
        config.pause_before_pivot = pauseBeforePivot ? 1 : 0
        if let time = c.timeNamespace {
            config.new_time_namespace = 1
            config.time_offsets = time.offsetsText.map(string)
        }
        if let domain = c.executionDomain {
            config.set_personality = 1
            config.personality = domain.value
        }
        config.exec_file = c.executable.map(byteString)
        config.unshare_cgroup = unshareCgroup ? 1 : 0
        config.cgroup_fd = placement.directoryFD ?? -1
        let taskFiles = array(of: Int32.self, count: placement.taskFiles.count)
        for (i, fd) in placement.taskFiles.enumerated() { taskFiles[i] = fd }
        config.cgroup_task_fds = UnsafePointer(taskFiles)
        config.n_cgroup_task_fds = placement.taskFiles.count
        config.stdio = stdio
        config.controlling_tty = controllingTerminal ? 1 : 0

        config.rootfs = string(c.rootfs)
        config.rootfs_readonly = c.readOnlyRootfs ? 1 : 0
        if let overlay = c.overlay {
            config.overlay_lower = stringArray(overlay.lowerDirectories)
            config.n_overlay_lower = overlay.lowerDirectories.count
            config.overlay_upper = string(overlay.upperDirectory)
            config.overlay_work = string(overlay.workDirectory)
            config.overlay_volatile = overlay.isDisposable ? 1 : 0
            if let overlayShortNames {
                config.overlay_lower_short = stringArray(overlayShortNames)
                config.overlay_lower_base = string(overlay.linkDirectory)
            }
        }
        if c.userNamespace != nil {
            // The layers arrive as idmapped mounts (`IdmappedSources`), attached by the
            // child at these short paths on a tmpfs over the link directory; without an overlay,
            // the root directory itself is the one idmapped mount.
            config.n_idmapped = c.overlay?.lowerDirectories.count ?? 1
            if let overlay = c.overlay {
                config.overlay_lower = stringArray(overlay.lowerDirectories.indices.map { "\(overlay.linkDirectory)/\($0)" })
                config.overlay_lower_base = string(overlay.linkDirectory)
                config.overlay_lower_short = nil
                config.overlay_userxattr = 1
            }
        }
        let ops = array(of: berth_mount_op.self, count: operations.count)
        for (i, op) in operations.enumerated() {
            ops[i] = cOperation(op)
            config.n_idmapped_binds += Int(ops[i].idmapped)
        }
        config.ops = UnsafePointer(ops)
        config.n_ops = operations.count

        // runc's rule: the names are set in the container's UTS namespace, new or joined by path,
        // and only when the spec gives them (an empty one is no name).
        let ownUTS = c.namespaces.contains(.uts) || c.joinedNamespaces.contains { $0.kind == .uts }
        config.hostname = ownUTS ? c.hostname.flatMap { $0.isEmpty ? nil : string($0) } : nil
        config.domainname = ownUTS ? c.domainname.flatMap { $0.isEmpty ? nil : string($0) } : nil
        config.loopback_up = c.namespaces.contains(.network) ? 1 : 0
        // The command, its environment and working directory go to the kernel as the bytes they
        // came from (`ArgumentBytes`): a name that is not UTF-8 reaches the container unchanged.
        config.cwd = byteString(c.workingDirectory)
        config.create_cwd = 1
        config.start_fd = startFD
        config.argv = byteStringArray(c.args)
        config.envp = byteStringArray(c.env)
        config.path = string(c.searchPath)
        let limits = array(of: berth_rlimit.self, count: c.rlimits.count)
        for (i, l) in c.rlimits.enumerated() {
            limits[i] = berth_rlimit(resource: l.resource, soft: l.soft, hard: l.hard)
        }
        config.rlimits = UnsafePointer(limits)
        config.n_rlimits = c.rlimits.count

        config.set_user = 1
        config.uid = c.user.uid
        config.gid = c.user.gid
        let groups = array(of: gid_t.self, count: c.user.additionalGids.count)
        for (i, g) in c.user.additionalGids.enumerated() { groups[i] = g }
        config.groups = UnsafePointer(groups)
        config.n_groups = c.user.additionalGids.count
        if let caps = c.capabilities {
            config.set_capabilities = 1
            config.last_cap = lastCap
            config.cap_bounding = caps.bounding.bits
            config.cap_effective = caps.effective.bits
            config.cap_permitted = caps.permitted.bits
            config.cap_inheritable = caps.inheritable.bits
            config.cap_ambient = caps.ambient.bits
        }
        config.no_new_privs = c.noNewPrivileges ? 1 : 0
        if let seccomp, !seccomp.isEmpty {
            let program = array(of: UInt8.self, count: seccomp.count)
            program.update(from: seccomp, count: seccomp.count)
            config.seccomp_program = UnsafeRawPointer(program)
            config.seccomp_length = seccomp.count
            // Without no_new_privs the filter needs CAP_SYS_ADMIN when it is loaded: early when
            // the process will not hold it at the end (CSpawn's child_main).
            let sysAdmin: UInt64 = 1 << 21
            let finalEffective = c.capabilities?.effective.bits ?? (c.user.uid == 0 ? UInt64.max : 0)
            config.seccomp_early = !c.noNewPrivileges && finalEffective & sysAdmin == 0 ? 1 : 0
        }
        config.entry_fd = entry
        config.use_init = c.useInit ? 1 : 0
        // A container held for `berth-oci start` outlives the create that made it, as the OCI
        // runtime's containers (and their execs) outlive each runtime command.
        config.parent_death_signal = startFD > 2 || outlivesCaller ? 0 : SIGKILL

        if let namespaceFiles, !namespaceFiles.files.isEmpty { join(namespaceFiles, container: c) }

        // berth exec: a process in the namespaces of the container whose init `target` is.
        // Its root, mounts, hostname and network are the container's as they are.
        if let target {
            // The user namespace first (setns with a pidfd enters it before the others, whose
            // owner it is). The namespaces the container joined by path are its init's too.
            config.join_namespaces = c.namespaces.setnsFlags | (c.userNamespace != nil ? berth_clone_newuser : 0)
                | (c.timeNamespace != nil ? berth_clone_newtime : 0)
                | c.joinedNamespaces.reduce(0) { $0 | $1.kind.flag }
            config.n_join_files = 0
            config.unshare_namespaces = 0
            config.new_time_namespace = 0
            config.time_offsets = nil
            config.pause_before_pivot = 0
            config.n_idmapped = 0
            config.n_idmapped_binds = 0
            config.overlay_userxattr = 0
            config.join_pidfd = target
            config.namespaces = 0
            config.unshare_cgroup = 0
            config.rootfs = nil
            config.n_overlay_lower = 0
            config.n_ops = 0
            config.hostname = nil
            config.domainname = nil
            config.loopback_up = 0
            config.use_init = 0
            config.create_cwd = 0
        }
    }

    /// Namespaces given by path: the child enters them (the user namespace first), the parent
    /// the pid namespace, for the child it clones. A joined user namespace must own the
    /// container's new namespaces, so those are made by the child once inside it; a joined mount
    /// namespace is taken as it is.
    private func join(_ files: NamespaceFiles, container c: ContainerConfig) {
        let entered = files.enteredByChild
        let joins = array(of: berth_namespace_file.self, count: entered.count)
        for (i, file) in entered.enumerated() { joins[i] = berth_namespace_file(fd: file.fd, type: Int32(file.join.kind.flag)) }
        config.join_files = UnsafePointer(joins)
        config.n_join_files = entered.count
        if let pid = files.pid {
            config.join_namespaces = berth_clone_newpid
            config.join_pidfd = pid
        }
        if c.joinedNamespaces.contains(where: { $0.kind == .user }) {
            config.unshare_namespaces = config.namespaces
            config.namespaces = 0
        }
        if c.joinedNamespaces.contains(where: { $0.kind == .mount }) {
            config.rootfs = nil
            config.n_overlay_lower = 0
            config.n_ops = 0
            config.create_cwd = 0
        }
    }

    deinit {
        for p in allocations { free(p) }
    }

    private func cOperation(_ op: MountOperation) -> berth_mount_op {
        var c = berth_mount_op()
        c.target = string(op.target)
        c.flags = op.flags.rawValue
        c.optional = op.optional ? 1 : 0
        c.tree_attr_set = op.treeAttributes.setting
        c.tree_attr_clr = op.treeAttributes.clearing
        c.copy_up = op.copyUp ? 1 : 0
        switch op.kind {
        case let .mount(fstype, source, data):
            c.kind = Int32(BERTH_OP_MOUNT.rawValue)
            c.fstype = string(fstype)
            c.source = string(source)
            c.data = data.map(string)
        case let .bind(source, recursive, idmap):
            c.kind = Int32(BERTH_OP_BIND.rawValue)
            c.source = string(source)
            c.top_mount_only = recursive ? 0 : 1
            c.idmapped = idmap == nil ? 0 : 1
        case let .device(major, minor, mode, hostPath, block):
            c.kind = Int32(BERTH_OP_DEVICE.rawValue)
            c.mode = (block ? S_IFBLK : S_IFCHR) | (mode & 0o7777)
            c.dev = UInt64(makeDevice(major: major, minor: minor))
            c.source = hostPath.map(string)
        case let .symlink(to):
            c.kind = Int32(BERTH_OP_SYMLINK.rawValue)
            c.source = string(to)
        case .mask:
            c.kind = Int32(BERTH_OP_MASK.rawValue)
        case .readOnly:
            c.kind = Int32(BERTH_OP_READONLY.rawValue)
        }
        return c
    }

    private func string(_ s: String) -> UnsafePointer<CChar> {
        guard let p = strdup(s) else { fatalError("out of memory") }
        allocations.append(UnsafeMutableRawPointer(p))
        return UnsafePointer(p)
    }

    private func stringArray(_ strings: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        let p = array(of: UnsafePointer<CChar>?.self, count: strings.count + 1)
        for (i, s) in strings.enumerated() { p[i] = string(s) }
        p[strings.count] = nil
        return UnsafePointer(p)
    }

    /// A C string of the bytes `s` stands for (`ArgumentBytes`).
    private func byteString(_ s: String) -> UnsafePointer<CChar> {
        let bytes = ArgumentBytes.bytes(s)
        let p = array(of: CChar.self, count: bytes.count + 1)
        for (i, byte) in bytes.enumerated() { p[i] = CChar(bitPattern: byte) }
        p[bytes.count] = 0
        return UnsafePointer(p)
    }

    private func byteStringArray(_ strings: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        let p = array(of: UnsafePointer<CChar>?.self, count: strings.count + 1)
        for (i, s) in strings.enumerated() { p[i] = byteString(s) }
        p[strings.count] = nil
        return UnsafePointer(p)
    }

    private func array<T>(of: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        guard let raw = calloc(max(count, 1), MemoryLayout<T>.stride) else { fatalError("out of memory") }
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }
}

/// makedev(3), which glibc provides only as a macro-like inline.
func makeDevice(major: UInt32, minor: UInt32) -> UInt64 {
    let ma = UInt64(major), mi = UInt64(minor)
    return ((ma & 0xfffff000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffffff00) << 12) | (mi & 0xff)
}
