import FileSystem
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `--userns`: the host's user namespace (Docker's default), or one of the container's own with
/// a range of host ids no other container of this state root has (`auto`).
public enum UserNamespaceMode: String, Sendable, Equatable {
    case host
    case auto

    /// The `--userns` flag's value; "" is the default, the host's.
    public init(flag: String) throws(ContainerError) {
        guard let mode = flag.isEmpty ? .host : UserNamespaceMode(rawValue: flag) else {
            throw ContainerError(.invalidArgument, "unknown --userns value \"\(flag)\": use host or auto")
        }
        self = mode
    }
}

/// Where the host's subordinate id ranges are: /etc/subuid and /etc/subgid, or a test's files.
public struct SubordinateIDFiles: Sendable, Equatable {
    public var uidFile: String
    public var gidFile: String

    public init(uidFile: String, gidFile: String) {
        self.uidFile = uidFile
        self.gidFile = gidFile
    }

    public static let system = SubordinateIDFiles(uidFile: "/etc/subuid", gidFile: "/etc/subgid")
}

extension ContainerEngine {
    /// The user whose subordinate ranges berth divides among its containers.
    static let subordinateUser = "berth"
    /// Ids per container: a whole 16-bit id space, as an image's files expect.
    static let userNamespaceSize: UInt32 = 65536
    /// The range berth adds for itself when the files have none: room for 1024 containers.
    static let subordinateRangeSize: UInt32 = 65536 * 1024

    /// Runs `body` with the user namespace a new container of `mode` gets (nil: the host's).
    /// For `auto` the range is picked, and `body` (which writes the record that keeps it) runs,
    /// under the state root's `userns.lock`: two creations at once never get the same range.
    func withUserNamespace<R>(_ mode: UserNamespaceMode, _ body: (UserNamespace?) throws -> R) throws -> R {
        guard mode == .auto else { return try body(nil) }
        let lockPath = stateRoot + "/userns.lock"
        let fd: Int32
        do {
            fd = try FileLock.acquire(lockPath)
        } catch {
            throw ContainerError.system("cannot \(error.call == "open" ? "open" : "lock") \(lockPath)", errno: error.errno)
        }
        defer { close(fd) }
        let taken: [UserNamespace] = store.all().compactMap { $0.hostConfig.userNamespace }
        let uid = try freeRange(in: subordinateIDFiles.uidFile, taken: taken.flatMap(\.uidMappings))
        let gid = try freeRange(in: subordinateIDFiles.gidFile, taken: taken.flatMap(\.gidMappings))
        return try body(UserNamespace(
            uidMappings: [IDMapping(containerID: 0, hostID: uid, size: Self.userNamespaceSize)],
            gidMappings: [IDMapping(containerID: 0, hostID: gid, size: Self.userNamespaceSize)]))
    }

    /// The first block of `userNamespaceSize` ids of berth's ranges in `path` that no mapping of
    /// `taken` touches; the file gets a range for berth first if it has none.
    private func freeRange(in path: String, taken: [IDMapping]) throws -> UInt32 {
        var file = try SubordinateIDFile.read(path)
        var ranges = file.ranges(of: Self.subordinateUser)
        if ranges.isEmpty {
            ranges = [try file.addRange(for: Self.subordinateUser, count: Self.subordinateRangeSize)]
            logger.notice("added a subordinate id range for berth", metadata: ["file": "\(path)"])
        }
        let size = UInt64(Self.userNamespaceSize)
        for range in ranges {
            var start = UInt64(range.first)
            while start + size <= range.end {
                if let clash = taken.first(where: { start < UInt64($0.hostID) + UInt64($0.size) && UInt64($0.hostID) < start + size }) {
                    // Past the clash, on the block grid of this range.
                    let past = UInt64(clash.hostID) + UInt64(clash.size)
                    start = UInt64(range.first) + (past - UInt64(range.first) + size - 1) / size * size
                    continue
                }
                return UInt32(start)
            }
        }
        throw ContainerError(.invalidState,
                             "no free range of \(Self.userNamespaceSize) ids is left in berth's lines of \(path): "
                                 + "remove containers made with --userns=auto, or give berth a larger range there")
    }
}
