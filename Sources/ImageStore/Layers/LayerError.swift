import BerthErrors

/// Layer packing's and unpacking's name for berth's one error type. Its errors carry the layer
/// `entry` they are about (the path as the tar names it when unpacking, relative to the upper dir
/// when packing), so the user learns which file of a hostile or broken layer was refused; their
/// codes are `.unsafePath`, `.deviceNotAllowed`, `.badArchive`, `.unsupported` and `.systemError`.
public typealias LayerError = BerthError
