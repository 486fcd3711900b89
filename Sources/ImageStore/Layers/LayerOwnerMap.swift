/// The owners of a user namespace's upper dir, turned back into the container's own: a file its
/// root made is owned on the host by the mapped uid (say 262144), and the layer must say 0, so
/// that an image committed from such a container is the one a host container gives.
public struct LayerOwnerMap: Sendable, Equatable {
    /// `size` ids from `hostID` on the host are the container's from `containerID`.
    public struct Range: Sendable, Equatable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32

        public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
            self.containerID = containerID
            self.hostID = hostID
            self.size = size
        }
    }

    public var uids: [Range]
    public var gids: [Range]

    public init(uids: [Range], gids: [Range]) {
        self.uids = uids
        self.gids = gids
    }

    /// The container's "nobody": what a host id outside every range shows as inside.
    static let overflowID: UInt32 = 65534

    func uid(ofHost id: UInt32) -> UInt32 { Self.container(id, uids) }
    func gid(ofHost id: UInt32) -> UInt32 { Self.container(id, gids) }

    private static func container(_ id: UInt32, _ ranges: [Range]) -> UInt32 {
        guard let range = ranges.first(where: { id >= $0.hostID && UInt64(id) < UInt64($0.hostID) + UInt64($0.size) }) else {
            return overflowID
        }
        return range.containerID + (id - range.hostID)
    }
}
