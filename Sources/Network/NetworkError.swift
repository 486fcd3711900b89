import BerthErrors

/// The network module's name for berth's one error type.
public typealias NetworkError = BerthError
