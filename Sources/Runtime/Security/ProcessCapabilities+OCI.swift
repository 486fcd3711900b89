extension ProcessCapabilities {
    /// Converts `process.capabilities` of a config.json; a missing list is an empty set.
    ///
    /// A name nobody knows throws `RuntimeError(.invalidArgument)`. A capability that libcap
    /// knows but the running kernel does not is left out, as runc does: engines write their
    /// full list (CAP_BPF, CAP_CHECKPOINT_RESTORE) whatever kernel the container lands on.
    public init(oci: OCIRuntimeSpec.Capabilities) throws {
        func set(_ names: [String]?) throws -> CapabilitySet {
            var result = CapabilitySet.empty
            for name in names ?? [] {
                do {
                    result = result.adding(try CapabilitySet(names: [name]))
                } catch let error as RuntimeError where error.code == .unsupported {
                    continue
                }
            }
            return result
        }
        self.init(bounding: try set(oci.bounding), effective: try set(oci.effective),
                  permitted: try set(oci.permitted), inheritable: try set(oci.inheritable),
                  ambient: try set(oci.ambient))
    }
}
