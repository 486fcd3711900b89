/// The OCI chain id of a layer stack: the identity of "these layers, in this order, applied on
/// top of each other". An unpacked layer directory is named by its chain id, so images that share
/// a base share its directories.
///
/// ChainID(L0) = DiffID(L0); ChainID(L0…Ln) = sha256(ChainID(L0…Ln-1) + " " + DiffID(Ln)).
public enum ChainID {
    /// The chain ids of every prefix of `diffIDs` (oldest layer first), so index i names the
    /// stack of layers 0…i.
    public static func chain(_ diffIDs: [Digest]) -> [Digest] {
        var result: [Digest] = []
        result.reserveCapacity(diffIDs.count)
        for diffID in diffIDs {
            guard let parent = result.last else {
                result.append(diffID)
                continue
            }
            result.append(Digest.of(Array("\(parent) \(diffID)".utf8)))
        }
        return result
    }
}
