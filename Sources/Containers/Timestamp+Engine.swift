import Runtime

/// The runtime's RFC 3339 times, under the name the engine's callers (the CLI, Compose) know.
public typealias Timestamp = Runtime.Timestamp
