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
            if let entry = passwd.flatMap({ findEntry($0, where: { $0.count > 3 && $0[2].elementsEqual(userPart.utf8) }) }) {
                gid = UInt32(entry[3]) ?? 0
            }
        } else {
            guard let entry = passwd.flatMap({ findEntry($0, where: { $0[0].elementsEqual(userPart.utf8) }) }),
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
                guard let entry = group.flatMap({ findEntry($0, where: { $0[0].elementsEqual(groupPart.utf8) }) }),
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
        return findEntry(passwd, where: { $0.count > 5 && $0[2].elementsEqual(String(uid).utf8) })?[5]
    }

    /// The fields of the first entry of a passwd or group file that `match` accepts, read as libc
    /// and runc read the file: by bytes, lines split at '\n' and trimmed of spaces (so a CRLF file
    /// reads as its LF twin), fields at ':'. As Swift characters, "\r\n" is one character that no
    /// split at "\n" sees (a CRLF file was one line, its entries after the first unknown), and
    /// names compare up to Unicode equivalence, which libc's do not.
    private static func findEntry(_ file: [UInt8], where match: ([ArraySlice<UInt8>]) -> Bool) -> [String]? {
        func isSpace(_ byte: UInt8) -> Bool { byte == 32 || (9...13).contains(byte) }
        for line in file.split(separator: UInt8(ascii: "\n")) {
            guard let first = line.firstIndex(where: { !isSpace($0) }), let last = line.lastIndex(where: { !isSpace($0) }) else {
                continue
            }
            let fields = line[first...last].split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            if match(fields) { return fields.map { String(decoding: $0, as: UTF8.self) } }
        }
        return nil
    }

    /// Reads a file as the overlay of `roots` (topmost first) shows it, by FileSystem's overlay
    /// rule: a layer that deleted it (a whiteout) or whose directory above it is opaque (made
    /// anew there) hides the lower layers' copies. The file is read inside the one layer that
    /// shows it, its links resolved inside that layer's root, never out of it.
    private static func readInRoots(_ roots: [String], _ path: String) throws -> [UInt8] {
        switch OverlayLookup(layers: roots).find(path) {
        case .visible(let layer, _), .behindNonDirectory(let layer, _):
            return try readInRoot(roots[layer], path)
        case .absent:
            throw RuntimeError(.notFound, "cannot read \(path) in the container's root", errno: ENOENT)
        }
    }

    /// Reads a file of the image without following its symlinks out of the root.
    private static func readInRoot(_ rootfs: String, _ path: String) throws -> [UInt8] {
        let fd = berth_open_in_root(rootfs, path, O_RDONLY)
        guard fd >= 0 else { throw RuntimeError.system("cannot read \(path) in the container's root") }
        defer { close(fd) }
        do {
            return try FileIO.readAll(fd, path: path)
        } catch {
            throw RuntimeError.system("cannot read \(path) in the container's root", errno: error.errno)
        }
    }
}
