import Testing

/// Every container test runs under this one serialized suite: timing checks (the CPU quota,
/// the OOM kill) need a quiet machine, and 2 cores are saturated by a few parallel containers.
@Suite("Containers", .serialized, .enabled(if: Host.canRunContainers, Host.notRoot))
struct Containers {}
