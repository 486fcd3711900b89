import Testing

/// Every container test runs under this one serialized suite: timing checks (the CPU quota,
/// the OOM kill) need a quiet machine, and 2 cores are saturated by a few parallel containers.
/// A hung container must fail its test, not stall the VM until its overall timeout.
@Suite("Containers", .serialized, .timeLimit(.minutes(5)), .enabled(if: Host.canRunContainers, Host.notRoot))
struct Containers {}
