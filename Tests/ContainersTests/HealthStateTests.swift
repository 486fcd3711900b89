import Testing
@testable import Containers

/// How check results move a container's health, and the network counters `stats` reads.
@Suite("health state") struct HealthStateTests {
    static func result(_ code: Int32) -> HealthState.Result {
        HealthState.Result(start: "s", end: "e", exitCode: code, output: "")
    }

    @Test("failures in a row make it unhealthy; one success heals it; the log keeps five")
    func transitions() {
        var health = HealthState()
        #expect(health.status == .starting)
        health = health.recording(Self.result(1), retries: 3, inStartPeriod: false)
        health = health.recording(Self.result(1), retries: 3, inStartPeriod: false)
        #expect(health.status == .starting && health.failingStreak == 2)
        health = health.recording(Self.result(-1), retries: 3, inStartPeriod: false)
        #expect(health.status == .unhealthy && health.failingStreak == 3)
        health = health.recording(Self.result(0), retries: 3, inStartPeriod: false)
        #expect(health.status == .healthy && health.failingStreak == 0)
        health = health.recording(Self.result(1), retries: 3, inStartPeriod: false)
        #expect(health.status == .healthy && health.failingStreak == 1)
        for _ in 0..<3 { health = health.recording(Self.result(0), retries: 3, inStartPeriod: false) }
        #expect(health.log.count == 5)
        // Eight results (1, 1, -1, 0, 1, 0, 0, 0): the last five stay, oldest first.
        #expect(health.log.map(\.exitCode) == [0, 1, 0, 0, 0])
    }

    @Test("failures in the start period are logged and not counted")
    func startPeriod() {
        var health = HealthState()
        for _ in 0..<5 { health = health.recording(Self.result(1), retries: 1, inStartPeriod: true) }
        #expect(health.status == .starting && health.failingStreak == 0 && health.log.count == 5)
        health = health.recording(Self.result(0), retries: 1, inStartPeriod: true)
        #expect(health.status == .healthy)
    }

    @Test("the state round-trips through its JSON")
    func json() {
        var health = HealthState()
        health = health.recording(HealthState.Result(start: "a", end: "b", exitCode: 2, output: "out\n"), retries: 1,
                                  inStartPeriod: false)
        #expect(HealthState(json: health.json) == health)
        #expect(HealthCheck(json: HealthCheck(test: ["CMD", "x"], interval: 5, retries: 2).json)
                == HealthCheck(test: ["CMD", "x"], interval: 5, retries: 2))
    }

    @Test("network counters: every interface but lo")
    func networkCounters() {
        let text = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
              eth0:    1234       5    0    0    0     0          0         0      648       4    0    0    0     0       0          0
              eth1: 10 1 0 0 0 0 0 0 20 1 0 0 0 0 0 0
            """
        let counters = NetworkCounters.parse(text)
        #expect(counters.received == 1244 && counters.sent == 668)
    }

    @Test("CPU ticks of a /proc/PID/stat line whose command holds spaces and parentheses")
    func cpuTicks() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 100 1000 10"
        #expect(ProcessAccounting.cpuTicks(stat: stat) == 10)
    }
}
