import Foundation
@testable import ImageStore

/// Everything the layer round trips must preserve about one file, in a form `#expect` can compare
/// and print.
struct TreeNode: Equatable, CustomStringConvertible {
    var type: String
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var size: Int64?
    var contentHash: Int?
    var linkTarget: String?
    var rdev: String?
    var xattrs: [String: [UInt8]]
    var mtime: Int?
    /// The other paths that share this inode, for hardlinks.
    var hardlinks: [String] = []

    var description: String {
        var parts = ["\(type) mode=\(String(mode, radix: 8)) \(uid):\(gid)"]
        if let size { parts.append("size=\(size)") }
        if let contentHash { parts.append("hash=\(contentHash)") }
        if let linkTarget { parts.append("-> \(linkTarget)") }
        if let rdev { parts.append("dev=\(rdev)") }
        if !xattrs.isEmpty { parts.append("xattrs=\(xattrs.keys.sorted())") }
        if let mtime { parts.append("mtime=\(mtime)") }
        if !hardlinks.isEmpty { parts.append("links=\(hardlinks)") }
        return parts.joined(separator: " ")
    }
}

/// A tree read into `[path: TreeNode]`, never following links, to compare a directory before
/// packing with the same directory unpacked again (or two overlay views).
enum TreeSnapshot {
    struct Options {
        /// Directory sizes differ between filesystems and between an overlay and a plain directory.
        var directorySizes = false
        var mtimes = true
        var directoryMtimes = true
        /// Whiteouts compare by type, device number and owner: their mode is not part of the format.
        var whiteoutModes = false
        /// By default all but user.overlay.opaque: the unpacker's copy of trusted.overlay.opaque
        /// for overlays mounted in a user namespace, not content of the layer.
        var xattrFilter: (String) -> Bool = { $0 != "user.overlay.opaque" }
    }

    static func take(_ root: String, _ options: Options = Options()) throws -> [String: TreeNode] {
        var nodes: [String: TreeNode] = [:]
        var inodes: [String: [String]] = [:]
        try walk(root, "", options, &nodes, &inodes)
        for (_, paths) in inodes where paths.count > 1 {
            for p in paths { nodes[p]?.hardlinks = paths.filter { $0 != p }.sorted() }
        }
        return nodes
    }

    private static func walk(_ root: String, _ relative: String, _ options: Options,
                             _ nodes: inout [String: TreeNode], _ inodes: inout [String: [String]]) throws {
        let dirPath = root + relative
        let fd = open(dirPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FixtureError("open \(dirPath): errno \(errno)") }
        defer { close(fd) }
        for nameBytes in try DirectoryListing.names(fd, entry: relative) {
            let name = String(decoding: nameBytes, as: UTF8.self)
            let rel = relative + "/" + name
            let full = root + rel
            guard let st = LayerFixtures.lstatOf(full) else { throw FixtureError("lstat \(full)") }
            let type = LayerFS.fileType(st.st_mode)
            var node = TreeNode(type: typeName(type), mode: UInt32(st.st_mode & 0o7777), uid: st.st_uid, gid: st.st_gid,
                                size: nil, contentHash: nil, linkTarget: nil, rdev: nil, xattrs: [:], mtime: nil)
            let whiteout = type == S_IFCHR && st.st_rdev == 0
            if whiteout, !options.whiteoutModes { node.mode = 0 }
            if type != S_IFDIR || options.directorySizes { node.size = Int64(st.st_size) }
            if options.mtimes, type != S_IFDIR || options.directoryMtimes { node.mtime = st.st_mtim.tv_sec }
            if type == S_IFREG { node.contentHash = try hash(full) }
            if type == S_IFLNK { node.linkTarget = try FileManager.default.destinationOfSymbolicLink(atPath: full) }
            if type == S_IFCHR || type == S_IFBLK { node.rdev = "\(LayerFS.major(st.st_rdev)):\(LayerFS.minor(st.st_rdev))" }
            let target = XattrTarget.path(Array(full.utf8))
            for x in target.names() ?? [] where options.xattrFilter(x) {
                node.xattrs[x] = target.value(x)
            }
            if type != S_IFDIR, st.st_nlink > 1, !whiteout { inodes["\(st.st_dev):\(st.st_ino)", default: []].append(rel) }
            nodes[rel] = node
            if type == S_IFDIR { try walk(root, rel, options, &nodes, &inodes) }
        }
    }

    private static func hash(_ path: String) throws -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FixtureError("cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = Hasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
        return hasher.finalize()
    }

    private static func typeName(_ type: mode_t) -> String {
        switch type {
        case S_IFDIR: "dir"
        case S_IFREG: "file"
        case S_IFLNK: "symlink"
        case S_IFCHR: "char"
        case S_IFBLK: "block"
        case S_IFIFO: "fifo"
        case S_IFSOCK: "socket"
        default: "other"
        }
    }

    /// The differences between two snapshots, one line each, for a readable failure.
    static func differences(_ a: [String: TreeNode], _ b: [String: TreeNode]) -> [String] {
        var lines: [String] = []
        for path in Set(a.keys).union(b.keys).sorted() {
            switch (a[path], b[path]) {
            case let (x?, y?) where x != y: lines.append("\(path): \(x)  ≠  \(y)")
            case (_?, nil): lines.append("\(path): only in the first")
            case (nil, _?): lines.append("\(path): only in the second")
            default: break
            }
        }
        return lines
    }
}
