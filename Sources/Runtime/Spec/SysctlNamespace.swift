/// The namespace a sysctl key belongs to: only such a key can be given to a container, and only
/// when the container has its own namespace of that kind; any other key is the whole host's.
/// The IPC keys are the ones the kernel keeps per IPC namespace (ipc/ipc_sysctl.c and
/// ipc/mq_sysctl.c), the list runc validates against.
public enum SysctlNamespace: String, Sendable, Equatable {
    case network
    case ipc

    public init?(key: String) {
        // A key is a path below /proc/sys: nothing that could climb out of it.
        guard !key.contains("/"), !key.split(separator: ".", omittingEmptySubsequences: false).contains("") else {
            return nil
        }
        if key.hasPrefix("net.") {
            self = .network
        } else if Self.ipcKeys.contains(key) || (key.hasPrefix("fs.mqueue.") && key.count > "fs.mqueue.".count) {
            self = .ipc
        } else {
            return nil
        }
    }

    static let ipcKeys: Set<String> = [
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
        "kernel.shmmni", "kernel.shm_rmid_forced",
    ]

    /// The OCI spec's name of the namespace (linux.namespaces[].type).
    public var ociName: String { self == .network ? "network" : "ipc" }

    /// The key's file below /proc/sys: "kernel.shmmax" → "kernel/shmmax".
    public static func path(of key: String) -> String {
        "/proc/sys/" + key.split(separator: ".").joined(separator: "/")
    }
}
