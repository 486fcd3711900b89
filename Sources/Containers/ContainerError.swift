import BerthErrors

/// The container engine's name for berth's one error type.
public typealias ContainerError = BerthError
