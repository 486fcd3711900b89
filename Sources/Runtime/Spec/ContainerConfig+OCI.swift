/// A `ContainerConfig` as an OCI runtime spec and back: the form a container's launch
/// description is kept in (`containers/<id>/launch.json`), and the form `berth-oci` reads from a
/// bundle.
///
/// The spec holds what the container asked for; berth's own mounts (`/proc`, `/dev`, `/sys`, …,
/// see `MountPlan`) are added by the launcher and not listed, so `mounts` holds only the binds
/// the user asked for. An overlay root is not part of the spec: it is rebuilt from the image at
/// every start. berth's own settings travel as annotations under `io.berth.`.
extension ContainerConfig {
    /// Annotation: "true" when a tiny init runs as pid 1 (`--init`).
    public static let initAnnotation = "io.berth.init"

    public var ociSpec: OCIRuntimeSpec {
        var process = OCIRuntimeSpec.Process(
            terminal: terminal, user: .init(uid: user.uid, gid: user.gid, additionalGids: user.additionalGids),
            args: args, env: env, cwd: workingDirectory,
            capabilities: capabilities.map { caps in
                OCIRuntimeSpec.Capabilities(bounding: caps.bounding.names, effective: caps.effective.names,
                                            inheritable: caps.inheritable.names, permitted: caps.permitted.names,
                                            ambient: caps.ambient.names)
            },
            noNewPrivileges: noNewPrivileges)
        process.rlimits = rlimits.map { limit in
            OCIRuntimeSpec.Rlimit(type: ResourceLimit.ociName(of: limit.resource), hard: limit.hard, soft: limit.soft)
        }
        let resources = OCIRuntimeSpec.Linux.Resources(
            memory: resources.memoryBytes == nil && resources.memoryReservationBytes == nil && resources.memorySwappiness == nil ? nil
                : OCIRuntimeSpec.Linux.Memory(limit: resources.memoryBytes, reservation: resources.memoryReservationBytes,
                                              swap: resources.memoryBytes, swappiness: resources.memorySwappiness),
            cpu: resources.cpu == nil && resources.cpuShares == nil && resources.cpuset == nil ? nil
                : OCIRuntimeSpec.Linux.CPU(shares: resources.cpuShares, quota: resources.cpu?.quotaMicros,
                                           period: resources.cpu.map { UInt64($0.periodMicros) },
                                           cpus: resources.cpuset?.cpus, mems: resources.cpuset?.mems),
            pids: resources.pidsLimit.map { OCIRuntimeSpec.Linux.Pids(limit: $0) },
            devices: resources.devices.map { $0.map(\.oci) }, blockIO: resources.blockIO,
            hugepageLimits: resources.hugepageLimits.isEmpty ? nil : resources.hugepageLimits, network: resources.network,
            unified: resources.unified.isEmpty ? nil : resources.unified)
        var linux = OCIRuntimeSpec.Linux(
            namespaces: NamespaceSet.ociNames.filter { namespaces.contains($0.set) }.map { .init(type: $0.name) }
                + (userNamespace != nil ? [.init(type: "user")] : [])
                + (timeNamespace != nil ? [.init(type: "time")] : [])
                + joinedNamespaces.map { .init(type: $0.kind.rawValue, path: $0.path) },
            uidMappings: userNamespace?.uidMappings, gidMappings: userNamespace?.gidMappings,
            resources: resources, seccomp: seccomp?.oci, maskedPaths: maskedPaths, readonlyPaths: readOnlyPaths,
            devices: devices.isEmpty ? nil : devices.map(\.oci))
        linux.personality = executionDomain.map { .init(domain: $0.rawValue) }
        linux.timeOffsets = timeNamespace?.ociOffsets
        return OCIRuntimeSpec(
            process: process, root: .init(path: rootfs, readonly: readOnlyRootfs), hostname: hostname,
            domainname: domainname,
            mounts: ociMounts,
            annotations: useInit ? [Self.initAnnotation: "true"] : nil,
            linux: linux)
    }

    /// The user mounts as the spec lists them: in `mountOrder` when the config came from a spec,
    /// else binds, tmpfs, then other filesystems.
    var ociMounts: [OCIRuntimeSpec.Mount] {
        let binds = bindMounts.map { bind in
            OCIRuntimeSpec.Mount(destination: bind.destination, type: "bind", source: bind.source,
                                 options: [bind.recursive ? "rbind" : "bind", bind.readOnly ? "ro" : "rw"] + bind.flags.names
                                     + (bind.propagation.map { [$0.rawValue] } ?? [])
                                     + (bind.idmap.map { [$0.recursive ? "ridmap" : "idmap"] } ?? []) + bind.treeAttributes.options,
                                 uidMappings: bind.idmap.flatMap { $0.isTheContainers ? nil : $0.uidMappings },
                                 gidMappings: bind.idmap.flatMap { $0.isTheContainers ? nil : $0.gidMappings })
        }
        let tmpfs = tmpfsMounts.map { tmpfs in
            OCIRuntimeSpec.Mount(destination: tmpfs.destination, type: "tmpfs", source: "tmpfs",
                                 options: tmpfs.flags.names + tmpfs.treeAttributes.options + (tmpfs.copyUp ? ["tmpcopyup"] : [])
                                     + tmpfs.options)
        }
        let filesystems = filesystemMounts.map { mount in
            OCIRuntimeSpec.Mount(destination: mount.destination, type: mount.type, source: mount.source,
                                 options: mount.flags.names + mount.treeAttributes.options + mount.options)
        }
        guard !mountOrder.isEmpty else { return binds + tmpfs + filesystems }
        return mountOrder.map { reference in
            switch reference {
            case .bind(let index): binds[index]
            case .tmpfs(let index): tmpfs[index]
            case .filesystem(let index): filesystems[index]
            }
        }
    }

    /// The config a spec describes, checked: every name (capability, rlimit, namespace, seccomp
    /// action) must be one berth knows, and what berth cannot do is refused rather than ignored.
    /// `keepingMountOrder`: the mounts are set up in the spec's order (a bundle's, berth-oci's),
    /// not parents first (berth's own launch spec, whose order is Docker's).
    public init(id: String, oci spec: OCIRuntimeSpec, keepingMountOrder: Bool = false) throws {
        guard let process = spec.process, let args = process.args, !args.isEmpty else {
            throw RuntimeError(.invalidArgument, "the container's spec has no process to run (process.args is empty)")
        }
        guard let root = spec.root else {
            throw RuntimeError(.invalidArgument, "the container's spec has no root filesystem (root.path)")
        }
        self.init(id: id, rootfs: root.path, args: args, env: process.env ?? [])
        readOnlyRootfs = root.readonly ?? false
        workingDirectory = process.cwd
        user = ProcessUser(uid: process.user.uid, gid: process.user.gid, additionalGids: process.user.additionalGids ?? [])
        hostname = spec.hostname
        domainname = spec.domainname.flatMap { $0.isEmpty ? nil : $0 }
        terminal = process.terminal ?? false
        rlimits = try (process.rlimits ?? []).map { limit in
            guard let resource = ResourceLimit.resource(ociName: limit.type) else {
                throw RuntimeError(.invalidArgument, "the container's spec names an unknown rlimit \"\(limit.type)\"")
            }
            return ResourceLimit(resource: resource, soft: limit.soft, hard: limit.hard)
        }
        capabilities = try process.capabilities.map(ProcessCapabilities.init(oci:))
        noNewPrivileges = process.noNewPrivileges ?? false
        useInit = spec.annotations?[Self.initAnnotation] == "true"
        for mount in spec.mounts ?? [] { try add(mount) }
        if !keepingMountOrder { mountOrder = [] }
        let linux = spec.linux ?? OCIRuntimeSpec.Linux()
        var namespaces: NamespaceSet = []
        var types: Set<String> = []
        for namespace in linux.namespaces ?? [] {
            guard types.insert(namespace.type).inserted else {
                throw RuntimeError(.invalidArgument, "the container's spec lists the \(namespace.type) namespace twice in "
                                   + "linux.namespaces: give each type once, with a path to join one or without to make one")
            }
            if let path = namespace.path {
                // A network namespace made by the caller (containerd and CNI make it first, then
                // pass its path): the process is cloned there.
                if namespace.type == "network" {
                    networkNamespacePath = path
                    continue
                }
                guard let kind = NamespaceJoin.Kind(rawValue: namespace.type) else {
                    throw RuntimeError(.unsupported, "the container's spec joins a \(namespace.type) namespace at \(path), "
                                       + "a type berth does not know: use pid, network, mount, ipc, uts, user, cgroup or time")
                }
                joinedNamespaces.append(NamespaceJoin(kind: kind, path: path))
                continue
            }
            if namespace.type == "time" {
                timeNamespace = TimeNamespace()
                continue
            }
            if namespace.type == "user" {
                guard let uids = linux.uidMappings, let gids = linux.gidMappings else {
                    throw RuntimeError(.invalidArgument,
                                       "the container's spec asks for a user namespace without uidMappings and gidMappings")
                }
                userNamespace = UserNamespace(uidMappings: uids, gidMappings: gids)
                try userNamespace?.validate()
                continue
            }
            guard let known = NamespaceSet.ociNames.first(where: { $0.name == namespace.type }) else {
                throw RuntimeError(.unsupported, "the container's spec asks for a \(namespace.type) namespace, which berth does not create")
            }
            namespaces.insert(known.set)
        }
        self.namespaces = namespaces
        try readTimeOffsets(linux.timeOffsets)
        if let personality = linux.personality {
            guard let domain = ExecutionDomain(rawValue: personality.domain) else {
                throw RuntimeError(.invalidArgument, "the container's spec asks for the personality domain "
                                   + "\"\(personality.domain)\": the spec's domains are LINUX and LINUX32")
            }
            if let flag = personality.flags?.first {
                throw RuntimeError(.invalidArgument, "the container's spec sets the personality flag \"\(flag)\": "
                                   + "the runtime spec defines no personality flags, remove it")
            }
            executionDomain = domain
        }
        if userNamespace == nil, let bind = bindMounts.first(where: { $0.idmap?.isTheContainers == true }) {
            throw RuntimeError(.invalidArgument, "the bind at \(bind.destination) is idmapped without mappings of its own, "
                               + "which means the container's user namespace, and the spec has none: give the mount "
                               + "uidMappings and gidMappings or add a user namespace")
        }
        maskedPaths = linux.maskedPaths ?? []
        readOnlyPaths = linux.readonlyPaths ?? []
        let limits = linux.resources
        resources = ResourceLimits(
            memoryBytes: limits?.memory?.limit,
            cpu: try limits?.cpu.flatMap { cpu in
                guard let quota = cpu.quota, quota > 0 else { return nil }
                guard let period = Int64(exactly: cpu.period ?? 100_000), period > 0 else {
                    throw RuntimeError(.invalidArgument, "the container's spec has an invalid cpu period")
                }
                return CPUBandwidth(quotaMicros: quota, periodMicros: period)
            },
            pidsLimit: limits?.pids?.limit,
            cpuShares: limits?.cpu?.shares,
            memoryReservationBytes: limits?.memory?.reservation,
            memorySwappiness: limits?.memory?.swappiness,
            cpuset: limits?.cpu.flatMap(CPUSet.init(oci:)))
        resources.blockIO = limits?.blockIO
        resources.hugepageLimits = limits?.hugepageLimits ?? []
        resources.network = limits?.network
        resources.unified = limits?.unified ?? [:]
        // A spec without a device list gets the default one and its own devices, as runc gives it.
        let listed = try limits?.devices?.map(DeviceRule.init(oci:))
        devices = try (linux.devices ?? []).map { try DeviceNode(oci: $0, rules: listed ?? []) }
        resources.devices = listed ?? DeviceRule.containerDefault + devices.map(\.rule)
        try resources.devices?.validate()
        seccomp = try linux.seccomp.map(SeccompProfile.init(oci:))
        // The OCI form (the launch spec) can't say that the profile is berth's default, which
        // compiles to the smaller program; the profile the capabilities give is recognised again.
        if let profile = seccomp, let bounding = capabilities?.bounding {
            seccomp = profile.recognizingTheDefault(for: bounding)
        }
    }
}

extension ContainerConfig {
    /// One of the spec's mounts, as a bind, a tmpfs or a filesystem of another type, its options
    /// sorted into flags and the filesystem's data (`MountOptions`).
    mutating func add(_ mount: OCIRuntimeSpec.Mount) throws {
        let options = MountOptions(parsing: mount.options ?? [])
        // runc reads "tmpcopyup" on any mount and carries it out on a tmpfs only; said here instead.
        if options.copyUp, mount.type != "tmpfs" {
            throw RuntimeError(.invalidArgument, "the \(mount.type ?? "untyped") mount at \(mount.destination) has the option "
                               + "tmpcopyup, which only a tmpfs takes: remove it")
        }
        if mount.type == "bind" || options.bind != nil {
            guard let source = mount.source else {
                throw RuntimeError(.invalidArgument, "the container's spec binds nothing at \(mount.destination): "
                                   + "give the host path to bind as its source")
            }
            guard options.data.isEmpty else {
                throw RuntimeError(.invalidArgument, "the bind at \(mount.destination) has the option "
                                   + "\(options.data.joined(separator: ", ")), which is not a bind's: remove it")
            }
            // runc's rule: type "bind" without "rbind" binds the source's own mount only.
            mountOrder.append(.bind(bindMounts.count))
            bindMounts.append(BindMount(source: source, destination: mount.destination, readOnly: options.flags.contains(.readOnly),
                                        propagation: options.propagation, recursive: options.bind == .tree,
                                        flags: options.flags.subtracting(.readOnly), idmap: try Self.idmap(of: mount, options),
                                        treeAttributes: options.treeAttributes))
            return
        }
        if options.idmap != nil || mount.uidMappings != nil || mount.gidMappings != nil {
            throw RuntimeError(.unsupported, "the container's spec idmaps the \(mount.type ?? "untyped") mount at \(mount.destination): "
                               + "berth idmaps binds only; bind a directory of that filesystem instead")
        }
        guard let type = mount.type, !type.isEmpty else {
            throw RuntimeError(.invalidArgument, "the container's spec has a mount at \(mount.destination) without a type "
                               + "that is not a bind: give its filesystem type (proc, tmpfs, ...) or the option rbind")
        }
        let flags = options.flags.union(options.propagation?.flags ?? [])
        if type == "tmpfs" {
            mountOrder.append(.tmpfs(tmpfsMounts.count))
            tmpfsMounts.append(TmpfsMount(destination: mount.destination, flags: flags, options: options.data,
                                          treeAttributes: options.treeAttributes, copyUp: options.copyUp))
        } else {
            mountOrder.append(.filesystem(filesystemMounts.count))
            filesystemMounts.append(FilesystemMount(destination: mount.destination, type: type, source: mount.source ?? type,
                                                    flags: flags, options: options.data, treeAttributes: options.treeAttributes))
        }
    }

    /// A bind's idmapping: "idmap" or "ridmap" with the mount's own mappings, or without them the
    /// container's user namespace's (checked once the namespaces are read). Mappings without
    /// either option are taken as "idmap", as the spec asks options to say so only to keep older
    /// runtimes from ignoring them.
    static func idmap(of mount: OCIRuntimeSpec.Mount, _ options: MountOptions) throws -> MountIDMap? {
        guard options.idmap != nil || mount.uidMappings != nil || mount.gidMappings != nil else { return nil }
        let uids = mount.uidMappings ?? [], gids = mount.gidMappings ?? []
        if uids.isEmpty != gids.isEmpty {
            throw RuntimeError(.invalidArgument, "the bind at \(mount.destination) has \(uids.isEmpty ? "gid" : "uid")Mappings "
                               + "without \(uids.isEmpty ? "uid" : "gid")Mappings: give both")
        }
        if !uids.isEmpty {
            try UserNamespace(uidMappings: uids, gidMappings: gids).validate(mapsRoot: false)
        }
        return MountIDMap(uidMappings: uids, gidMappings: gids, recursive: options.idmap == .tree)
    }

    /// linux.timeOffsets: only for a time namespace of the container's own, the only one whose
    /// offsets can still be written; each clock once, monotonic or boottime.
    private mutating func readTimeOffsets(_ offsets: [String: OCIRuntimeSpec.Linux.TimeOffset]?) throws {
        guard let offsets, !offsets.isEmpty else { return }
        guard timeNamespace != nil else {
            throw RuntimeError(.invalidArgument, "the container's spec sets linux.timeOffsets without a new time namespace, "
                               + "whose clocks they would move: add {\"type\": \"time\"} to linux.namespaces")
        }
        for (clock, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            guard (offset.nanosecs ?? 0) < 1_000_000_000 else {
                throw RuntimeError(.invalidArgument, "the container's spec sets linux.timeOffsets.\(clock).nanosecs "
                                   + "\(offset.nanosecs ?? 0): it must be below 1000000000 (whole seconds go in secs)")
            }
            let value = TimeNamespace.Offset(seconds: offset.secs ?? 0, nanoseconds: offset.nanosecs ?? 0)
            switch clock {
            case "monotonic": timeNamespace?.monotonic = value
            case "boottime": timeNamespace?.boottime = value
            default:
                throw RuntimeError(.invalidArgument, "the container's spec sets linux.timeOffsets for the clock \"\(clock)\": "
                                   + "a time namespace moves only monotonic and boottime")
            }
        }
    }
}

extension TimeNamespace {
    /// The offsets as linux.timeOffsets; nil with none.
    var ociOffsets: [String: OCIRuntimeSpec.Linux.TimeOffset]? {
        let clocks = [("monotonic", monotonic), ("boottime", boottime)].compactMap { name, offset in
            offset.map { (name, OCIRuntimeSpec.Linux.TimeOffset(secs: $0.seconds, nanosecs: $0.nanoseconds)) }
        }
        return clocks.isEmpty ? nil : Dictionary(uniqueKeysWithValues: clocks)
    }
}

extension NamespaceSet {
    /// The OCI spec's names of the namespaces berth creates.
    static let ociNames: [(name: String, set: NamespaceSet)] = [
        ("mount", .mount), ("pid", .pid), ("uts", .uts), ("ipc", .ipc), ("network", .network), ("cgroup", .cgroup),
    ]
}

extension ResourceLimit {
    /// "RLIMIT_NOFILE" for RLIMIT_NOFILE's number.
    static func ociName(of resource: Int32) -> String {
        let name = names.first { $0.value == resource }?.key ?? String(resource)
        return "RLIMIT_" + name.uppercased()
    }

    /// The number of an OCI rlimit name ("RLIMIT_NOFILE"); nil for a name berth does not know.
    static func resource(ociName: String) -> Int32? {
        guard ociName.hasPrefix("RLIMIT_") else { return nil }
        return names[ociName.dropFirst("RLIMIT_".count).lowercased()]
    }
}

extension SeccompProfile {
    /// The profile in the OCI spec's form, which `init(oci:)` reads back to an equal profile.
    public var oci: OCIRuntimeSpec.Linux.Seccomp {
        let (action, errnoRet) = defaultAction.oci
        return OCIRuntimeSpec.Linux.Seccomp(
            defaultAction: action, defaultErrnoRet: errnoRet, architectures: architectures.map(\.ociName),
            syscalls: rules.map { rule in
                let (action, errnoRet) = rule.action.oci
                return OCIRuntimeSpec.Linux.Syscall(
                    names: rule.names, action: action, errnoRet: errnoRet,
                    args: rule.conditions.isEmpty ? nil : rule.conditions.map { condition in
                        OCIRuntimeSpec.Linux.SyscallArg(index: condition.index, value: condition.value,
                                                        valueTwo: condition.valueTwo, op: condition.op.ociName)
                    })
            })
    }
}

extension SeccompAction {
    /// The OCI action name and its `errnoRet`.
    var oci: (String, UInt32?) {
        switch self {
        case .allow: ("SCMP_ACT_ALLOW", nil)
        case .errno(let value): ("SCMP_ACT_ERRNO", UInt32(value))
        case .killProcess: ("SCMP_ACT_KILL_PROCESS", nil)
        case .killThread: ("SCMP_ACT_KILL_THREAD", nil)
        case .trap: ("SCMP_ACT_TRAP", nil)
        case .log: ("SCMP_ACT_LOG", nil)
        case .trace(let value): ("SCMP_ACT_TRACE", UInt32(value))
        }
    }
}

extension SeccompOperator {
    var ociName: String {
        switch self {
        case .notEqual: "SCMP_CMP_NE"
        case .lessThan: "SCMP_CMP_LT"
        case .lessThanOrEqual: "SCMP_CMP_LE"
        case .equal: "SCMP_CMP_EQ"
        case .greaterThanOrEqual: "SCMP_CMP_GE"
        case .greaterThan: "SCMP_CMP_GT"
        case .maskedEqual: "SCMP_CMP_MASKED_EQ"
        }
    }
}
