import BerthErrors

/// The proxy and deploy code's name for berth's one error type.
public typealias ProxyError = BerthError
