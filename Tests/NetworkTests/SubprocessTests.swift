import Testing
@testable import BerthNetwork

@Suite("Subprocess")
struct SubprocessTests {
    @Test("stdin in, stdout and the exit status out")
    func roundTrip() throws {
        let result = try Subprocess.run("/bin/cat", [], input: Array("hello".utf8))
        #expect(result.status == 0 && result.output == Array("hello".utf8))
        #expect(try Subprocess.run("/bin/sh", ["-c", "echo no >&2; exit 3"], input: []).errorText == "no")
    }

    @Test("a program past its time limit is killed, and says so")
    func timeout() throws {
        let result = try Subprocess.run("/bin/sleep", ["30"], input: [], timeout: 1)
        #expect(result.status == 128 + 9)
        #expect(result.errorText.contains("did not finish within 1 seconds"))
    }
}
