import CSpawn
#if canImport(Glibc)
import Glibc
#endif

/// The host directories the parent hands the child as detached idmapped mounts, in the order the
/// child takes them: a user namespace's image layers (or its root directory), shown through the
/// child's own mapping, then each idmapped bind of the mount plan, through the bind's mapping.
/// Owns the C form and the user namespaces made for mappings of the binds' own, until it goes.
final class IdmappedSources {
    struct Source {
        var path: String
        /// nil: the child's user namespace's mapping.
        var mapping: MountIDMap?
        /// The mounts below `path` too (an rbind).
        var tree = false
        /// And they are idmapped too (ridmap).
        var idmapTree = false
        /// An idmapped bind, which the child takes at its operation rather than with the layers.
        var isBind = false
    }

    let sources: [Source]
    private var namespaces: [String: Int32] = [:]
    private var paths: [UnsafeMutablePointer<CChar>?] = []

    /// nil when there is nothing to idmap: the usual container, for which nothing is allocated
    /// (a class's failable init would allocate the object before it could fail).
    static func of(_ config: ContainerConfig, operations: [MountOperation]) -> IdmappedSources? {
        guard config.userNamespace != nil || operations.contains(where: \.isIdmappedBind) else { return nil }
        return IdmappedSources(config, operations: operations)
    }

    private init(_ config: ContainerConfig, operations: [MountOperation]) {
        var sources = config.userNamespace == nil ? [] : (config.overlay?.lowerDirectories ?? [config.rootfs]).map {
            Source(path: $0)
        }
        for operation in operations {
            guard case let .bind(source, recursive, idmap?) = operation.kind else { continue }
            // A mapping that is the container's own needs no namespace of its own.
            let own = idmap.isTheContainers || (config.userNamespace.map {
                $0.uidMappings == idmap.uidMappings && $0.gidMappings == idmap.gidMappings
            } ?? false)
            sources.append(Source(path: source, mapping: own ? nil : idmap, tree: recursive, idmapTree: idmap.recursive,
                                  isBind: true))
        }
        self.sources = sources
    }

    deinit {
        for fd in namespaces.values { close(fd) }
        for path in paths { free(path) }
    }

    /// The C form, with a user namespace made for each mapping of a bind's own (one for all
    /// binds that share it).
    func cSources() throws -> [berth_idmapped_source] {
        try sources.map { source in
            var userns: Int32 = -1
            if let mapping = source.mapping {
                let uidMap = UserNamespace.mapText(mapping.uidMappings), gidMap = UserNamespace.mapText(mapping.gidMappings)
                let key = uidMap + "|" + gidMap
                if let made = namespaces[key] {
                    userns = made
                } else {
                    let made = berth_make_user_namespace(uidMap, gidMap)
                    guard made >= 0 else {
                        throw RuntimeError(.systemError, "cannot make the user namespace of the idmapped mount of \(source.path) "
                                           + "(uid map \(uidMap.split(separator: "\n").joined(separator: ", ")))", errno: -made)
                    }
                    namespaces[key] = made
                    userns = made
                }
            }
            let path = strdup(source.path)
            paths.append(path)
            return berth_idmapped_source(path: path, userns_fd: userns, tree: source.tree ? 1 : 0,
                                         idmap_tree: source.idmapTree ? 1 : 0, alone: source.isBind ? 1 : 0)
        }
    }
}

extension MountOperation {
    var isIdmappedBind: Bool {
        if case .bind(_, _, .some) = kind { return true }
        return false
    }
}
