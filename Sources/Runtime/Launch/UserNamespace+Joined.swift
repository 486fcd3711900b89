import CSpawn
#if canImport(Glibc)
import Glibc
#endif

extension UserNamespace {
    /// The mappings of the user namespace a container joins by path (an nsfs file such as
    /// /proc/PID/ns/user), as its own processes read them: the ids of its parent namespace.
    /// berth-oci checks a spec's uidMappings and gidMappings against them, as runc does.
    public static func mappings(ofNamespaceAt path: String) throws -> UserNamespace {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RuntimeError.system("cannot open \(path) to read its user namespace's mappings "
                                      + "(linux.namespaces): give the path of a namespace that exists")
        }
        defer { close(fd) }
        guard berth_namespace_type(fd) == Int(berth_clone_newuser) else {
            throw RuntimeError(.invalidArgument, "\(path) is not a user namespace file, so it cannot be joined as one "
                               + "(linux.namespaces): give a path such as /proc/PID/ns/user")
        }
        let size = 16384
        var uids = [CChar](repeating: 0, count: size), gids = [CChar](repeating: 0, count: size)
        guard berth_read_user_namespace_maps(fd, &uids, &gids, size) == 0 else {
            throw RuntimeError.system("cannot read the mappings of the user namespace at \(path) (entering it to read "
                                      + "its uid_map and gid_map failed)")
        }
        return UserNamespace(uidMappings: parse(text(uids)), gidMappings: parse(text(gids)))
    }

    /// A NUL-terminated buffer's text.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// uid_map's lines: "inside outside count", space-aligned.
    static func parse(_ map: String) -> [IDMapping] {
        map.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").compactMap { UInt32($0) }
            return fields.count == 3 ? IDMapping(containerID: fields[0], hostID: fields[1], size: fields[2]) : nil
        }
    }
}
