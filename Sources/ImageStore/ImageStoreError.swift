@_exported import BerthErrors

/// The image store's name for berth's one error type.
public typealias ImageStoreError = BerthError

/// strerror, lower-cased to read inside a sentence.
func describeErrno(_ errno: Int32) -> String { BerthError.describe(errno: errno) }
