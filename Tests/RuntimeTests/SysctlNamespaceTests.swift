import Testing
import Runtime

/// Which sysctl keys a container may set: those a namespace keeps, sorted by namespace.
@Suite("sysctl keys by namespace") struct SysctlNamespaceTests {
    @Test(arguments: [
        ("net.ipv4.ip_forward", SysctlNamespace.network), ("net.core.somaxconn", .network),
        ("kernel.msgmax", .ipc), ("kernel.msgmnb", .ipc), ("kernel.msgmni", .ipc), ("kernel.sem", .ipc),
        ("kernel.shmall", .ipc), ("kernel.shmmax", .ipc), ("kernel.shmmni", .ipc), ("kernel.shm_rmid_forced", .ipc),
        ("fs.mqueue.msg_max", .ipc), ("fs.mqueue.queues_max", .ipc),
    ])
    func namespacedKeys(key: String, namespace: SysctlNamespace) {
        #expect(SysctlNamespace(key: key) == namespace)
    }

    /// The host's own settings, and keys that would climb out of /proc/sys.
    @Test(arguments: ["kernel.pid_max", "kernel.hostname", "vm.swappiness", "fs.mqueue.", "fs.file-max", "kernel.shmmax.x",
                      "net.ipv4..x", "net./../../etc/passwd", "fs.mqueue.a/../../x", ""])
    func otherKeysAreNot(key: String) {
        #expect(SysctlNamespace(key: key) == nil)
    }

    @Test func aKeyIsAPathBelowProcSys() {
        #expect(SysctlNamespace.path(of: "kernel.shmmax") == "/proc/sys/kernel/shmmax")
        #expect(SysctlNamespace.path(of: "fs.mqueue.msg_max") == "/proc/sys/fs/mqueue/msg_max")
    }
}
