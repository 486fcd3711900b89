import Foundation

/// Evaluates `condition` every `poll` seconds until it holds or `seconds` have passed; whether
/// it held. Tests wait for a state this way rather than sleeping a fixed time before an
/// assertion, which is too short on a loaded or emulated machine and wasted on a fast one.
func eventually(within seconds: Double = 10, poll: Double = 0.01, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(UInt32(poll * 1_000_000))
    }
    return try condition()
}
