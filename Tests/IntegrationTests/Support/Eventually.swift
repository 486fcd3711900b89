import Foundation

// Waiting for a state by polling it, instead of sleeping a fixed time before an assertion: a
// fixed sleep is too short in the QEMU VM (software emulation, 10-20x slower) and wasted time
// on a fast host. Deadlines are therefore generous and polls short.

/// Evaluates `condition` every `poll` seconds until it holds or `seconds` have passed; whether
/// it held. It is evaluated once more at the deadline, so a slow last poll still counts.
func eventually(within seconds: Double = 10, poll: Double = 0.02,
                _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(UInt32(poll * 1_000_000))
    }
    return try condition()
}

/// Evaluates `condition` every `poll` seconds for `seconds`; whether it held every time (it
/// stops at the first miss). For what must *not* happen, such as a restart past a policy's
/// limit: checked throughout the period rather than once after a sleep.
func holds(for seconds: Double, poll: Double = 0.05, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if !(try condition()) { return false }
        usleep(UInt32(poll * 1_000_000))
    } while Date() < deadline
    return try condition()
}
