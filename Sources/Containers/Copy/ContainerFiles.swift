import CSpawn
import FileSystem
import ImageStore
#if canImport(Glibc)
import Glibc
#endif

/// A container's files as `berth cp` reads and writes them, and paths resolved inside its root
/// the way openat2's RESOLVE_IN_ROOT resolves them: a symbolic link is followed relative to the
/// container's root, `..` stops at the root, so no path leads outside the container.
///
/// A running container is reached through its init's root (`/proc/PID/root`): its overlay, its
/// volumes, binds and tmpfs mounts as its processes see them, and writes go through its overlay
/// (writing into the upper dir of a mounted overlay is undefined behaviour for overlayfs). A
/// stopped image container is its layers merged by overlay's rule (`OverlayLookup`), with its
/// bind and volume sources over their mount points; a `--rootfs` one its directory.
struct ContainerFiles {
    // Linux values Swift's Glibc module leaves out (they need _GNU_SOURCE).
    static let oPath: Int32 = 0o10000000
    static let atEmptyPath: Int32 = 0x1000

    enum Root {
        /// A directory whose contents are the container's root: `/proc/PID/root` open as `fd`, or
        /// a `--rootfs` directory.
        case directory(String, fd: Int32?)
        /// The upper dir over the image's layers, topmost first.
        case layers(upper: MergedTreeExport.Layer, lower: [String])
    }

    let root: Root
    /// Bind and volume mounts of a stopped container (a running one shows its own): the longest
    /// destination that holds a path decides where the path lives.
    let mounts: [MountPoint]

    /// The tmpfs mount of a stopped container that `components` lies under, if any: nothing is
    /// there until the container starts (and what is copied there would be hidden by it).
    func tmpfs(holding components: [[UInt8]]) -> MountPoint? {
        // ".." taken lexically: the mount point itself may not exist yet in a stopped container.
        var components = components
        while let up = components.firstIndex(of: Self.dotDot) { components.removeSubrange(max(0, up - 1)...up) }
        return mounts.first { $0.type == "tmpfs" && components.starts(with: Self.components(Array($0.destination.utf8))) }
    }

    /// Where a resolved path lives on the host.
    enum Place {
        /// `components` below a directory (opened with `fd` when one is given).
        case directory(String, fd: Int32?, [[UInt8]])
        /// `components` in the merged view of the layers.
        case layers([[UInt8]])
    }

    func place(_ components: [[UInt8]]) -> Place {
        var best: (mount: MountPoint, depth: Int)?
        for mount in mounts where mount.type == "bind" || mount.type == "volume" {
            let destination = ContainerFiles.components(Array(mount.destination.utf8))
            guard components.starts(with: destination), destination.count >= (best?.depth ?? 0) else { continue }
            best = (mount, destination.count)
        }
        if let best { return .directory(best.mount.source, fd: nil, Array(components.dropFirst(best.depth))) }
        switch root {
        case .directory(let path, let fd): return .directory(path, fd: fd, components)
        case .layers: return .layers(components)
        }
    }

    /// The lstat of a path whose parents are already resolved (no link among them); nil with
    /// errno set when it does not exist.
    func status(_ components: [[UInt8]]) -> stat? {
        switch place(components) {
        case .directory(let path, let fd, let below):
            return Self.inDirectory(path, fd, below) { parent, name in
                var st = stat()
                return fstatat(parent, name ?? "", &st, name == nil ? Self.atEmptyPath : AT_SYMLINK_NOFOLLOW) == 0 ? st : nil
            } ?? nil
        case .layers(let below):
            guard case .layers(let upper, let lower) = root else { return nil }
            if below.isEmpty {
                var st = stat()
                return stat(upper.directory, &st) == 0 ? st : nil
            }
            let lookup = OverlayLookup(layers: [upper.directory] + lower, opaqueXattr: upper.overlayXattrPrefix + "opaque")
            switch lookup.find(Self.text(below)) {
            case .visible(_, let st): return st
            case .behindNonDirectory:
                errno = ENOTDIR
                return nil
            case .absent:
                errno = ENOENT
                return nil
            }
        }
    }

    /// A symbolic link's target (the path is one, as `status` said).
    func linkTarget(_ components: [[UInt8]]) -> [UInt8]? {
        switch place(components) {
        case .directory(let path, let fd, let below):
            return Self.inDirectory(path, fd, below) { parent, name in Self.readLink(parent, name ?? "") } ?? nil
        case .layers(let below):
            guard case .layers(let upper, let lower) = root else { return nil }
            let lookup = OverlayLookup(layers: [upper.directory] + lower, opaqueXattr: upper.overlayXattrPrefix + "opaque")
            guard case .visible(let layer, _) = lookup.find(Self.text(below)) else { return nil }
            let layers = [upper.directory] + lower
            return Self.readLink(AT_FDCWD, layers[layer] + "/" + Self.text(below))
        }
    }

    /// Calls `body` with an fd of the parent directory of `components` below `directory`
    /// (opened with RESOLVE_IN_ROOT) and the last name, or with the directory and nil for none.
    static func inDirectory<T>(_ directory: String, _ fd: Int32?, _ components: [[UInt8]],
                               _ body: (Int32, String?) -> T) -> T? {
        let rootPath = fd.map { "/proc/self/fd/\($0)" } ?? directory
        let parentPath = components.count > 1 ? text(components.dropLast()) : "."
        let parent = berth_open_in_root(rootPath, parentPath, Self.oPath | O_DIRECTORY)
        guard parent >= 0 else { return nil }
        defer { close(parent) }
        return body(parent, components.last.map { String(decoding: $0, as: UTF8.self) })
    }

    private static func readLink(_ parent: Int32, _ name: String) -> [UInt8]? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(parent, name, &buffer, buffer.count)
        guard n >= 0 else { return nil }
        return buffer[0..<n].map { UInt8(bitPattern: $0) }
    }

    // MARK: resolution

    /// What a container path resolved to.
    enum Resolved {
        case existing([[UInt8]], stat)
        /// Everything up to the last component exists (`parent`, a directory); `name` does not.
        case missing(parent: [[UInt8]], name: [UInt8])
    }

    enum ResolutionFailure: Error {
        /// A component before the last is missing or not a directory: how much was resolved.
        case noDirectory([[UInt8]])
        case tooManyLinks
    }

    /// Resolves `path` inside the container's root, following links on the way, and the last
    /// component's link too when `followLast`.
    func resolve(_ path: [UInt8], followLast: Bool) throws(ResolutionFailure) -> Resolved {
        var pending = Array(Self.rawComponents(path).reversed())
        var resolved: [[UInt8]] = []
        var links = 0
        while let component = pending.popLast() {
            if component == Self.dot { continue }
            if component == Self.dotDot {
                _ = resolved.popLast()
                continue
            }
            let candidate = resolved + [component]
            guard let st = status(candidate) else {
                if pending.allSatisfy({ $0 == Self.dot }) { return .missing(parent: resolved, name: component) }
                throw .noDirectory(candidate)
            }
            let type = st.st_mode & S_IFMT
            if type == S_IFLNK, followLast || !pending.isEmpty {
                links += 1
                // Linux's own limit on links followed in one lookup.
                guard links <= 40, let target = linkTarget(candidate) else { throw .tooManyLinks }
                if target.first == UInt8(ascii: "/") { resolved = [] }
                pending += Self.rawComponents(target).reversed()
                continue
            }
            if !pending.isEmpty, type != S_IFDIR { throw .noDirectory(candidate) }
            resolved = candidate
        }
        guard let st = status(resolved) else { throw .noDirectory(resolved) }
        return .existing(resolved, st)
    }

    // MARK: names

    static let dot: [UInt8] = [UInt8(ascii: ".")]
    static let dotDot: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: ".")]

    /// Components as written, `.` and `..` kept (resolution gives them their meaning).
    static func rawComponents(_ path: [UInt8]) -> [[UInt8]] {
        path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map(Array.init)
    }

    /// Components of a path that holds no `.` or `..` (a mount's destination).
    static func components(_ path: [UInt8]) -> [[UInt8]] {
        rawComponents(path).filter { $0 != dot }
    }

    static func text<C: Collection>(_ components: C) -> String where C.Element == [UInt8] {
        "/" + components.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
    }
}
