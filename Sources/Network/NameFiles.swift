import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// The files a container on a bridge network reads its names from: its /etc/hosts (itself,
/// and on a user-defined network every other container there, by name and alias), its
/// /etc/resolv.conf (the host's, with resolvers only the host can reach replaced) and its
/// /etc/hostname. They live in the container's directory and are bind-mounted over the image's,
/// never written into it.
public enum NameFiles {
    static let localhostLines = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"

    /// /etc/hosts for `lease`: its own line, then `peers`' (none on the default network).
    static func hosts(for lease: Lease, peers: [Lease]) -> String {
        var text = localhostLines
        text += "\(lease.address)\t" + unique([lease.hostname, lease.name] + lease.aliases).joined(separator: " ") + "\n"
        for peer in peers.sorted(by: { $0.address < $1.address }) where peer.container != lease.container {
            text += "\(peer.address)\t" + unique([peer.name] + peer.aliases).joined(separator: " ") + "\n"
        }
        return text
    }

    private static func unique(_ names: [String]) -> [String] {
        var seen: Set<String> = []
        return names.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// Rewrites a running container's /etc/hosts in place: its bind mount holds the file's inode,
    /// so a rename over it would not be seen inside.
    static func rewrite(_ path: String, with text: String) {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return }
        defer { close(fd) }
        try? FileIO.writeAll(fd, Array(text.utf8), path: path)
    }

    /// Writes a new file (before the container starts).
    static func write(_ path: String, _ text: String) throws {
        do {
            try AtomicFile.replace(path, with: Array(text.utf8), durable: false)
        } catch {
            throw NetworkError.system("cannot write \(path)", errno: error.errno)
        }
    }

    /// The host's resolv.conf for a container: nameservers on loopback addresses (a local cache
    /// such as systemd-resolved's 127.0.0.53) do not answer inside the container's network
    /// namespace, so they are left out; with none left, Docker's public fallbacks.
    public static func resolvConf(from host: String) -> String {
        var lines: [Substring] = []
        var servers = 0
        for line in host.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.first == "nameserver", words.count >= 2 {
                let server = words[1]
                if server.hasPrefix("127.") || server == "::1" { continue }
                servers += 1
            }
            lines.append(line)
        }
        var text = lines.joined(separator: "\n")
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        if servers == 0 { text += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n" }
        return text
    }

    /// The host's /etc/resolv.conf, read each time: it may change while berth is not running.
    static func hostResolvConf() -> String { hostFile("/etc/resolv.conf") ?? "" }

    /// A file of the host's, as text; nil when it cannot be read.
    static func hostFile(_ path: String) -> String? {
        (try? FileIO.readFile(path)).map { String(decoding: $0, as: UTF8.self) }
    }
}
