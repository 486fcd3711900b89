import Runtime

extension OCIRuntimeSpec {
    /// What `berth-oci spec` writes: runc's default config.json (a `sh` on a terminal in a
    /// read-only `rootfs`, every namespace but the user's, runc's three capabilities, no
    /// devices but the defaults), with berth-oci's hostname.
    public static var runcDefault: OCIRuntimeSpec {
        let capabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        let hardened = ["nosuid", "noexec", "nodev"]
        var process = Process(
            terminal: true, user: .init(uid: 0, gid: 0), args: ["sh"],
            env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"], cwd: "/",
            capabilities: Capabilities(bounding: capabilities, effective: capabilities, inheritable: nil,
                                       permitted: capabilities, ambient: capabilities),
            noNewPrivileges: true)
        process.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)]
        return OCIRuntimeSpec(
            ociVersion: OCIRuntime.ociVersion, process: process, root: Root(path: "rootfs", readonly: true),
            hostname: "berth-oci",
            mounts: [
                Mount(destination: "/proc", type: "proc", source: "proc"),
                Mount(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
                Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
                Mount(destination: "/dev/shm", type: "tmpfs", source: "shm", options: hardened + ["mode=1777", "size=65536k"]),
                Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: hardened),
                Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: hardened + ["ro"]),
                Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: hardened + ["relatime", "ro"]),
            ],
            linux: Linux(
                namespaces: ["pid", "network", "ipc", "uts", "mount", "cgroup"].map { Linux.Namespace(type: $0) },
                resources: Linux.Resources(devices: [Linux.DeviceRule(allow: false, access: "rwm")]),
                maskedPaths: ContainerConfig.defaultMaskedPaths, readonlyPaths: ContainerConfig.defaultReadOnlyPaths))
    }

}
