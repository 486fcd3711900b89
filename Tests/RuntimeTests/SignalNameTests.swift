#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Runtime

/// Signal names both ways: what `kill -s` and `--stop-signal` take, and what messages say.
@Suite("Signal names") struct SignalNameTests {
    @Test(arguments: [("INT", SIGINT), ("SIGTERM", SIGTERM), ("kill", SIGKILL), ("15", SIGTERM)] as [(String, Int32)])
    func numbers(text: String, number: Int32) {
        #expect(SignalName.number(text) == number)
    }

    @Test(arguments: [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP"), (40, "signal 40")] as [(Int32, String)])
    func names(number: Int32, name: String) {
        #expect(SignalName.name(number) == name)
    }
}
