@_exported import BerthErrors

/// The runtime's name for berth's one error type: its failures are `BerthError`s, coded
/// `.notExecutable`/`.commandNotFound` when the container's command cannot run.
public typealias RuntimeError = BerthError
