import BerthErrors
import CSpawn
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The spec's linux.sysctl, written from outside before the container's setup runs. Only the
/// network namespace's settings (net.*) are taken (`OCIBundle.checkSupported`): /proc/sys/net
/// shows the namespace of the thread that opens it, so this thread enters the container's
/// network namespace for the writes and comes back.
enum OCISysctl {
    static func write(_ settings: [String: String], in pid: pid_t) throws {
        guard !settings.isEmpty else { return }
        let namespace = "/proc/\(pid)/ns/net"
        let fd = open(namespace, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RuntimeError.system("cannot open the container's network namespace \(namespace)") }
        defer { close(fd) }
        let own = berth_enter_network_namespace(fd)
        guard own >= 0 else { throw RuntimeError.system("cannot enter the container's network namespace to set its sysctls") }
        defer { berth_leave_network_namespace(own) }
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            let path = "/proc/sys/" + key.split(separator: ".").joined(separator: "/")
            try writeControlFile(path, value, setting: "linux.sysctl \(key)=\(value)")
        }
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
