import CFileSystem
import FileSystem
import ImageStore
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// What `berth info` reports: the facts about this host and state root that decide whether
/// containers can run here, and how many there are. The first thing to look at when something
/// does not work, so every missing feature says why.
public struct HostInfo: Sendable {
    /// A feature berth needs or offers: whether this host has it, and in a few words what was
    /// found (or why it is missing).
    public struct Support: Sendable, Equatable {
        public let available: Bool
        public let detail: String
    }

    public struct ContainerCounts: Sendable, Equatable {
        public var total = 0, running = 0, paused = 0, stopped = 0
    }

    public let kernelVersion: String
    public let operatingSystem: String
    public let architecture: String
    public let cgroups: CgroupFacts
    public let storageRoot: String
    /// The filesystem under the state root ("ext4", "xfs", … or its magic number in hex).
    public let storageFilesystem: String
    public let runRoot: String
    public let overlay: Support
    public let seccomp: Support
    public let userNamespaces: Support
    /// A range of the `berth` user in /etc/subuid and /etc/subgid, for `--userns=auto`.
    public let subordinateIDs: Support
    public let defaultNetwork: String
    public let containers: ContainerCounts
    public let images: Int
}

/// Filesystem magic numbers (statfs' f_type, linux/magic.h) and the names `docker info` uses.
enum FilesystemNames {
    static let table: [(UInt64, String)] = [
        (0xEF53, "extfs"), (0x5846_5342, "xfs"), (0x9123_683E, "btrfs"), (0x0102_1994, "tmpfs"),
        (0x794C_7630, "overlay"), (0x2FC1_2FC1, "zfs"), (0x6969, "nfs"), (0xF2F5_2010, "f2fs"),
        (0x7371_7368, "squashfs"), (0x6573_5546, "fuse"), (0x8584_58F6, "ramfs"), (0x4D44, "vfat"),
        (0x0102_1997, "v9fs"), (0x6A65_6A65, "virtiofs"), (0x5346_544E, "ntfs"), (0xFF53_4D42, "cifs"),
    ]

    static func name(ofMagic magic: UInt64) -> String {
        table.first { $0.0 == magic }?.1 ?? "unknown (magic 0x" + String(magic, radix: 16) + ")"
    }

    /// Filesystems overlayfs refuses as its upper layer (they lack what it needs: trusted xattrs,
    /// d_type, tmpfiles), so no container can have its writable layer on them.
    static let refusedAsUpper: Set<String> = ["overlay", "nfs", "cifs", "v9fs", "fuse", "squashfs", "vfat", "ntfs"]
}

extension ContainerEngine {
    /// `berth info`: reads the host's facts (no cgroup, mount or file is created) and counts the
    /// containers and images of the state root.
    public func info() -> HostInfo {
        let platform = BerthVersion.platform()
        var magic: UInt64 = 0
        let storageFilesystem = berth_filesystem_magic(stateRoot, &magic) == 0
            ? FilesystemNames.name(ofMagic: magic) : "unknown (\(BerthError.describe(errno: errno)))"
        var counts = HostInfo.ContainerCounts()
        for record in list() {
            let state = state(of: record)
            counts.total += 1
            if state.paused { counts.paused += 1 } else if state.isUp { counts.running += 1 } else { counts.stopped += 1 }
        }
        let imageCount = (try? images().images(includeUntagged: true)).map { Set($0.map(\.id)).count } ?? 0
        return HostInfo(
            kernelVersion: platform.kernel, operatingSystem: Self.operatingSystemName(), architecture: platform.architecture,
            cgroups: CgroupFacts.gather(), storageRoot: stateRoot, storageFilesystem: storageFilesystem, runRoot: runRoot,
            overlay: Self.overlaySupport(filesystem: storageFilesystem), seccomp: Self.seccompSupport(),
            userNamespaces: Self.userNamespaceSupport(), subordinateIDs: subordinateIDSupport(),
            defaultNetwork: ContainerRequest.defaultNetwork, containers: counts, images: imageCount)
    }

    /// /etc/os-release's PRETTY_NAME, "Linux" without one.
    static func operatingSystemName() -> String {
        let text = (try? FileIO.readFile("/etc/os-release")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            var value = line.dropFirst("PRETTY_NAME=".count)
            if value.first == "\"", value.last == "\"", value.count >= 2 { value = value.dropFirst().dropLast() }
            return String(value)
        }
        return "Linux"
    }

    /// Overlay mounts need the kernel's overlay filesystem (/proc/filesystems lists it once the
    /// module is loaded) and a state root on a filesystem overlay takes as an upper layer.
    static func overlaySupport(filesystem: String, filesystems: String? = nil) -> HostInfo.Support {
        let listed = filesystems ?? (try? FileIO.readFile("/proc/filesystems")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let known = listed.split(separator: "\n").contains { $0.split(separator: "\t").last == "overlay" }
        guard known else {
            return HostInfo.Support(available: false, detail: "the kernel has no overlay filesystem (/proc/filesystems does not "
                                    + "list it): load it with modprobe overlay")
        }
        if FilesystemNames.refusedAsUpper.contains(filesystem) {
            return HostInfo.Support(available: false, detail: "the state root is on \(filesystem), which overlayfs cannot use for "
                                    + "a container's writable layer: choose a state root on ext4, xfs or btrfs (--root)")
        }
        return HostInfo.Support(available: true, detail: "overlay on \(filesystem)")
    }

    /// The kernel has seccomp filters when /proc/PID/status has a Seccomp line (CONFIG_SECCOMP)
    /// and berth's seccomp library loads (it is linked, so it does).
    static func seccompSupport(status: String? = nil) -> HostInfo.Support {
        let text = status ?? (try? FileIO.readFile("/proc/self/status")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        guard text.split(separator: "\n").contains(where: { $0.hasPrefix("Seccomp:") }) else {
            return HostInfo.Support(available: false, detail: "the kernel has no seccomp (no Seccomp line in /proc/self/status)")
        }
        return HostInfo.Support(available: true, detail: "filter mode, default profile")
    }

    /// User namespaces can be made when /proc/sys/user/max_user_namespaces is above zero.
    static func userNamespaceSupport(maximum: String? = nil) -> HostInfo.Support {
        let file = "/proc/sys/user/max_user_namespaces"
        let text = maximum ?? (try? FileIO.readFile(file)).map { String(decoding: $0, as: UTF8.self) }
        guard let text, let count = Int(text.trimmingWhitespace()) else {
            return HostInfo.Support(available: false, detail: "the kernel has no user namespaces (no \(file))")
        }
        guard count > 0 else {
            return HostInfo.Support(available: false, detail: "turned off: \(file) is 0")
        }
        return HostInfo.Support(available: true, detail: "at most \(count)")
    }

    /// Whether the `berth` user has ranges in the subordinate id files; without them berth adds
    /// its own range on the first `--userns=auto`.
    func subordinateIDSupport() -> HostInfo.Support {
        let files = subordinateIDFiles
        let uids = (try? SubordinateIDFile.read(files.uidFile))?.ranges(of: Self.subordinateUser) ?? []
        let gids = (try? SubordinateIDFile.read(files.gidFile))?.ranges(of: Self.subordinateUser) ?? []
        guard !uids.isEmpty, !gids.isEmpty else {
            return HostInfo.Support(available: false, detail: "no \(Self.subordinateUser) entry in \(files.uidFile) and "
                                    + "\(files.gidFile) yet: the first --userns=auto adds one")
        }
        return HostInfo.Support(available: true, detail: "\(Self.subordinateUser) entry in \(files.uidFile) and \(files.gidFile)")
    }
}
