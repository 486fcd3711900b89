import BerthErrors

/// Layer packing's and unpacking's name for berth's one error type. Its errors carry the layer
/// `entry` they are about (the path as the tar names it when unpacking, relative to the upper dir
/// when packing), so the user learns which file of a hostile or broken layer was refused; their
/// codes are `.unsafePath`, `.deviceNotAllowed`, `.badArchive`, `.unsupported` and `.systemError`.
public typealias LayerError = BerthError

extension LayerError {
    /// A device node in a layer that may not hold any (an import without --allow-devices): the
    /// one sentence for a tar's entry and a directory's file alike.
    static func deviceRefused(major: UInt32, minor: UInt32, entry: String) -> LayerError {
        LayerError(.deviceNotAllowed, entry: entry, "device node \(major):\(minor) refused: this import does not allow devices "
                       + "(--allow-devices keeps them)")
    }
}
