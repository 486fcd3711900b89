import BerthErrors
import CSpawn
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The spec's linux.sysctl, written from outside before the container's setup runs. Only the
/// keys a namespace keeps are taken (`OCIBundle.checkSupported`, `SysctlNamespace`): the
/// network namespace's net.* and the IPC namespace's. /proc/sys shows the namespaces of the
/// thread that opens it, so this thread enters the container's namespace for the writes and
/// comes back.
enum OCISysctl {
    static func write(_ settings: [String: String], in pid: pid_t) throws {
        guard !settings.isEmpty else { return }
        var byNamespace: [SysctlNamespace: [(key: String, value: String)]] = [:]
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            guard let namespace = SysctlNamespace(key: key) else {
                throw RuntimeError(.unsupported, "linux.sysctl \(key) is not kept per namespace: it is not written")
            }
            byNamespace[namespace, default: []].append((key, value))
        }
        for namespace in [SysctlNamespace.network, .ipc] {
            guard let keys = byNamespace[namespace] else { continue }
            try inNamespace(namespace, of: pid) {
                for (key, value) in keys {
                    try writeControlFile(SysctlNamespace.path(of: key), value, setting: "linux.sysctl \(key)=\(value)")
                }
            }
        }
    }

    /// Runs `body` on this thread inside the `namespace` of `pid`, and comes back.
    private static func inNamespace(_ namespace: SysctlNamespace, of pid: pid_t, _ body: () throws -> Void) throws {
        let path = "/proc/\(pid)/ns/" + (namespace == .network ? "net" : "ipc")
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RuntimeError.system("cannot open the container's \(namespace.ociName) namespace \(path)") }
        defer { close(fd) }
        let own = namespace == .network ? berth_enter_network_namespace(fd) : berth_enter_ipc_namespace(fd)
        guard own >= 0 else {
            throw RuntimeError.system("cannot enter the container's \(namespace.ociName) namespace to set its sysctls")
        }
        defer { namespace == .network ? berth_leave_network_namespace(own) : berth_leave_ipc_namespace(own) }
        try body()
    }

    /// Writes `value` to a /proc file in one write(2), as the kernel wants it.
    static func writeControlFile(_ path: String, _ value: String, setting: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RuntimeError.system("cannot set \(setting): open \(path)") }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw RuntimeError.system("cannot set \(setting): write \(path)") }
    }
}
