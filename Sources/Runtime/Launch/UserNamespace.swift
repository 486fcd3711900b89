/// `size` ids from `containerID` inside the user namespace are the ids from `hostID` outside.
public typealias IDMapping = OCIRuntimeSpec.Linux.IDMapping

/// A container's own user namespace: its root (and every id it uses) is an unprivileged range
/// of the host's ids. The image's files are shown through idmapped mounts of its layers, so they
/// keep their owners inside; what the container writes is owned on the host by the mapped ids.
public struct UserNamespace: Sendable, Equatable {
    public var uidMappings: [IDMapping]
    public var gidMappings: [IDMapping]

    public init(uidMappings: [IDMapping], gidMappings: [IDMapping]) {
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
    }

    /// The same `size` ids from `hostID` for users and groups, container id 0 first.
    public init(hostID: UInt32, size: UInt32) {
        let mapping = IDMapping(containerID: 0, hostID: hostID, size: size)
        self.init(uidMappings: [mapping], gidMappings: [mapping])
    }

    /// The kernel takes at most 340 lines in a map (Linux >= 4.15).
    static let maximumMappings = 340

    /// Checks what the kernel would refuse with a bare EINVAL or EPERM: each map non-empty, not
    /// too long, without overlaps or wrap-arounds, and (`mapsRoot`) with the container's root in
    /// it (the child becomes that root before anything else; an idmapped mount's maps need not).
    func validate(mapsRoot: Bool = true) throws {
        for (name, mappings) in [("uid", uidMappings), ("gid", gidMappings)] {
            guard !mappings.isEmpty, mappings.count <= Self.maximumMappings else {
                throw RuntimeError(.invalidArgument,
                                   "the user namespace's \(name) map needs 1 to \(Self.maximumMappings) ranges, not \(mappings.count)")
            }
            for m in mappings {
                guard m.size > 0, UInt64(m.containerID) + UInt64(m.size) <= UInt64(UInt32.max),
                      UInt64(m.hostID) + UInt64(m.size) <= UInt64(UInt32.max) else {
                    throw RuntimeError(.invalidArgument,
                                       "the \(name) mapping \(m.containerID) \(m.hostID) \(m.size) is empty or runs past the last id")
                }
            }
            for (i, a) in mappings.enumerated() {
                for b in mappings[(i + 1)...] where Self.overlap(a.containerID, b.containerID, a.size, b.size)
                    || Self.overlap(a.hostID, b.hostID, a.size, b.size) {
                    throw RuntimeError(.invalidArgument, "the user namespace's \(name) mappings overlap")
                }
            }
            guard !mapsRoot || Self.host(0, in: mappings) != nil else {
                throw RuntimeError(.invalidArgument, "the user namespace's \(name) map does not map the container's root (id 0)")
            }
        }
    }

    /// The host's uid of the container's root.
    public var hostRootUID: UInt32 { Self.host(0, in: uidMappings) ?? 0 }
    public var hostRootGID: UInt32 { Self.host(0, in: gidMappings) ?? 0 }

    /// The container's id for a host id (nil: outside every range, the container's "nobody").
    public func containerUID(ofHost id: UInt32) -> UInt32? { Self.container(id, in: uidMappings) }
    public func containerGID(ofHost id: UInt32) -> UInt32? { Self.container(id, in: gidMappings) }

    /// The text of /proc/PID/uid_map and gid_map: one "inside outside count" line a range.
    var uidMapText: String { Self.mapText(uidMappings) }
    var gidMapText: String { Self.mapText(gidMappings) }

    static func mapText(_ mappings: [IDMapping]) -> String {
        mappings.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
    }

    private static func host(_ id: UInt32, in mappings: [IDMapping]) -> UInt32? {
        mappings.first { id >= $0.containerID && UInt64(id) < UInt64($0.containerID) + UInt64($0.size) }
            .map { $0.hostID + (id - $0.containerID) }
    }

    private static func container(_ id: UInt32, in mappings: [IDMapping]) -> UInt32? {
        mappings.first { id >= $0.hostID && UInt64(id) < UInt64($0.hostID) + UInt64($0.size) }
            .map { $0.containerID + (id - $0.hostID) }
    }

    private static func overlap(_ a: UInt32, _ b: UInt32, _ sizeA: UInt32, _ sizeB: UInt32) -> Bool {
        UInt64(a) < UInt64(b) + UInt64(sizeB) && UInt64(b) < UInt64(a) + UInt64(sizeA)
    }
}
