@_exported import BerthErrors

/// The registry client's name for berth's one error type.
public typealias RegistryError = BerthError
