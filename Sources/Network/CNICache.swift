import FileSystem
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// What a container's ADD on a CNI network sent and got, in `networks/<name>/cni/<id>.json`: the
/// spec's cached result, which the DEL sends back as `prevResult` with the same configuration,
/// arguments and runtime config. Written before the ADD, so a berth killed during it leaves a
/// record the next command DELs; completed with the result after it.
struct CNICache: Codable {
    var container: String
    var ifName: String
    /// `CNI_ARGS` beyond `IgnoreUnknown=1`, as key and value.
    var args: [[String]]
    /// The capabilities' values (`portMappings`), an object.
    var runtimeConfig: JSONValue
    /// The configuration list as the ADD ran it.
    var config: JSONValue
    var result: JSONValue?

    var argPairs: [(String, String)] { args.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil } }

    static func directory(_ network: String) -> String { network + "/cni" }
    static func file(_ container: String, network: String) -> String { directory(network) + "/" + container + ".json" }

    /// The container's network namespace, bind-mounted for as long as it is on the network: the
    /// DEL must find its eth0 (the bridge plugin tears down its masquerade rules only then), and
    /// /proc/PID/ns/net would name another process's namespace once the pid is reused.
    static func netnsPath(_ container: String, network: String) -> String { directory(network) + "/" + container + ".netns" }

    /// The containers with a record on the network whose directory is `network`.
    static func containers(in network: String) -> [String] {
        let names = (try? Directory.names(atPath: directory(network))) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }
    }

    // MARK: the pinned network namespace

    static func pinNamespace(of pid: pid_t, at path: String) throws {
        let fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw NetworkError.system("cannot create \(path) to hold the container's network namespace") }
        close(fd)
        guard mount("/proc/\(pid)/ns/net", path, nil, UInt(MS_BIND), nil) == 0 else {
            let e = errno
            unlink(path)
            throw NetworkError.system("cannot bind-mount the container's network namespace on \(path)", errno: e)
        }
    }

    /// Whether `path` holds a network namespace (it is not when a berth was killed between
    /// making the file and mounting on it): plugins get "" then, as for a namespace that is gone.
    static func isPinned(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // NS_GET_NSTYPE: only a namespace file answers, with its kind (Glibc's module does not
        // export statfs for nsfs's magic number).
        let nsGetType: UInt = 0xb703
        let cloneNewNet: Int32 = 0x4000_0000
        return ioctl(fd, nsGetType) == cloneNewNet
    }

    static func unpinNamespace(at path: String) {
        // A mount stacked on it by an earlier, interrupted attach goes too.
        for _ in 0..<4 {
            if umount2(path, Int32(MNT_DETACH)) != 0 { break }
        }
        unlink(path)
    }
}
