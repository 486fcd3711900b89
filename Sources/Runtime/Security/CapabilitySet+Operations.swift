/// Set algebra for capability sets, and Docker's `--cap-add`/`--cap-drop` rule.
extension CapabilitySet {
    /// No capabilities at all.
    public static var empty: CapabilitySet { CapabilitySet(bits: 0) }

    public var isEmpty: Bool { bits == 0 }

    /// True when every capability of `other` is in this set.
    public func contains(_ other: CapabilitySet) -> Bool { bits & other.bits == other.bits }

    /// This set with the capabilities of `other` added.
    public func adding(_ other: CapabilitySet) -> CapabilitySet { CapabilitySet(bits: bits | other.bits) }

    /// This set without the capabilities of `other`.
    public func removing(_ other: CapabilitySet) -> CapabilitySet { CapabilitySet(bits: bits & ~other.bits) }

    /// The set a container gets from `--cap-add`/`--cap-drop` on top of this base set, with
    /// Docker's semantics: drops are applied first, then adds, so `--cap-drop ALL --cap-add
    /// NET_BIND_SERVICE` leaves exactly NET_BIND_SERVICE. The one exception is also Docker's:
    /// with `--cap-add ALL` the drops win (`--cap-add ALL --cap-drop MKNOD` has no MKNOD).
    /// Throws `RuntimeError(.invalidArgument)` naming an unknown capability.
    public func applying(add: [String], drop: [String]) throws -> CapabilitySet {
        let added = try CapabilitySet(names: add)
        let dropped = try CapabilitySet(names: drop)
        if add.contains(where: { $0.uppercased() == "ALL" }) {
            return CapabilitySet.all.removing(dropped)
        }
        return removing(dropped).adding(added)
    }
}
