import Testing
@testable import Runtime

/// `berth top`'s columns, from /proc texts.
@Suite("ProcessTable") struct ProcessTableTests {
    @Test func statLineWithParenthesesInTheName() throws {
        let line = "4242 (a (b) c) S 4200 4242 4242 34816 4242 4194560 100 0 0 0 150 50 0 0 20 0 1 0 12345 1000 10 "
            + "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
        let stat = try #require(ProcessTable.Stat.parse(line))
        #expect(stat == ProcessTable.Stat(pid: 4242, command: "a (b) c", parent: 4200, ttyNumber: 34816,
                                         cpuTicks: 200, startTicks: 12345))
        #expect(ProcessTable.Stat.parse("garbage") == nil)
        #expect(ProcessTable.Stat.parse("12 (short) S 1 2") == nil)
    }

    static let times: [(Int64, String)] = [(0, "00:00:00"), (65, "00:01:05"), (10859, "03:00:59"), (176400, "2-01:00:00")]

    @Test(arguments: times)
    func cpuTime(seconds: Int64, text: String) {
        #expect(ProcessTable.cpuTime(seconds) == text)
    }

    /// tty_nr: major in bits 8-19 (136-143 for pts), minor in bits 0-7 and 20-31.
    static let ttys: [(Int32, String)] = [(0, "?"), (34816 + 3, "pts/3"), (35072 + 1, "pts/257"), (1024 + 1, "tty1"), (1280 + 1, "?")]

    @Test(arguments: ttys)
    func ttyNames(number: Int32, name: String) {
        #expect(ProcessTable.ttyName(number) == name)
    }

    @Test func rowHasPsColumns() {
        let stat = ProcessTable.Stat(pid: 7, command: "sleep", parent: 1, ttyNumber: 0, cpuTicks: 250, startTicks: 1000)
        // Started 10 s after boot, now 60 s after boot: 2.5 s of CPU in 50 s is 5 %.
        let clock = ProcessTable.Clock(ticksPerSecond: 100, uptime: 60, now: 1_000_000)
        let row = ProcessTable.row(ProcessTable.Sample(stat: stat, uid: 0, arguments: ["sleep", "100"]), clock: clock,
                                   userName: { $0 == 0 ? "root" : "?" })
        #expect(row.count == ProcessTable.titles.count)
        #expect(row[0] == "root" && row[1] == "7" && row[2] == "1" && row[3] == "5")
        #expect(row[4].count == 5 && row[4].contains(":"), "a start today is HH:MM: \(row[4])")
        #expect(row[5] == "?" && row[6] == "00:00:02" && row[7] == "sleep 100")
        let thread = ProcessTable.row(ProcessTable.Sample(stat: stat, uid: 5, arguments: []), clock: clock, userName: { String($0) })
        #expect(thread[0] == "5" && thread[7] == "[sleep]")
    }
}
