import CSpawn
import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// `-u user[:group]` resolved against the container's own /etc/passwd and /etc/group (never the
/// host's): names or numbers, as Docker takes them.
public enum UserSpec {
    public static func resolve(_ spec: String, rootfs: String) throws -> ProcessUser {
        try resolve(spec, roots: [rootfs])
    }

    /// The same for a root made of layers (an overlay not mounted yet): `roots` topmost first,
    /// a file taken from the first layer that has it.
    public static func resolve(_ spec: String, roots: [String]) throws -> ProcessUser {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let userPart = parts.first, !userPart.isEmpty, parts.count == 1 || !parts[1].isEmpty else {
            throw RuntimeError(.invalidArgument, "invalid user \"\(spec)\": use uid[:gid] or name[:group]")
        }
        let passwd = try? readInRoots(roots, "/etc/passwd")
        var uid: UInt32
        var gid: UInt32 = 0
        if let number = UInt32(userPart) {
            uid = number
            // A known uid gets its primary group, as with a name.
            if let entry = passwd.flatMap({ findEntry($0, where: { $0.count > 3 && $0[2] == userPart }) }) {
                gid = UInt32(entry[3]) ?? 0
            }
        } else {
            guard let entry = passwd.flatMap({ findEntry($0, where: { $0.first == userPart }) }),
                  entry.count > 3, let u = UInt32(entry[2]), let g = UInt32(entry[3]) else {
                throw RuntimeError(.notFound, "user \"\(userPart)\" is not in the container's /etc/passwd")
            }
            uid = u
            gid = g
        }
        if parts.count == 2 {
            let groupPart = parts[1]
            if let number = UInt32(groupPart) {
                gid = number
            } else {
                let group = try? readInRoots(roots, "/etc/group")
                guard let entry = group.flatMap({ findEntry($0, where: { $0.first == groupPart }) }),
                      entry.count > 2, let g = UInt32(entry[2]) else {
                    throw RuntimeError(.notFound, "group \"\(groupPart)\" is not in the container's /etc/group")
                }
                gid = g
            }
        }
        // setresuid(-1) means "unchanged": an id of 4294967295 would silently keep root. runc
        // refuses ids past 2^31-1 for the same reason.
        for (what, id) in [("uid", uid), ("gid", gid)] where id > UInt32(Int32.max) {
            throw RuntimeError(.invalidArgument, "invalid user \"\(spec)\": \(what) \(id) is out of range (0 to \(Int32.max))")
        }
        return ProcessUser(uid: uid, gid: gid, additionalGids: [])
    }

    /// The home directory of `uid` in the container's /etc/passwd, for HOME.
    public static func home(of uid: UInt32, rootfs: String) -> String? {
        home(of: uid, roots: [rootfs])
    }

    public static func home(of uid: UInt32, roots: [String]) -> String? {
        guard let passwd = try? readInRoots(roots, "/etc/passwd") else { return nil }
        return findEntry(passwd, where: { $0.count > 5 && $0[2] == String(uid) })?[5]
    }

    private static func findEntry(_ file: String, where match: ([String]) -> Bool) -> [String]? {
        for line in file.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            if match(fields) { return fields }
        }
        return nil
    }

    /// Reads a file as the overlay of `roots` (topmost first) shows it, by FileSystem's overlay
    /// rule: a layer that deleted it (a whiteout) or whose directory above it is opaque (made
    /// anew there) hides the lower layers' copies. The file is read inside the one layer that
    /// shows it, its links resolved inside that layer's root, never out of it.
    private static func readInRoots(_ roots: [String], _ path: String) throws -> String {
        switch OverlayLookup(layers: roots).find(path) {
        case .visible(let layer, _), .behindNonDirectory(let layer, _):
            return try readInRoot(roots[layer], path)
        case .absent:
            throw RuntimeError(.notFound, "cannot read \(path) in the container's root", errno: ENOENT)
        }
    }

    /// Reads a file of the image without following its symlinks out of the root.
    private static func readInRoot(_ rootfs: String, _ path: String) throws -> String {
        let fd = berth_open_in_root(rootfs, path, O_RDONLY)
        guard fd >= 0 else { throw RuntimeError.system("cannot read \(path) in the container's root") }
        defer { close(fd) }
        do {
            return String(decoding: try FileIO.readAll(fd, path: path), as: UTF8.self)
        } catch {
            throw RuntimeError.system("cannot read \(path) in the container's root", errno: error.errno)
        }
    }
}
