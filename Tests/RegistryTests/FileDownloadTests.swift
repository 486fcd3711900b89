@testable import Registry
import Testing

/// The parts of a plain download that need no server: the Last-Modified header's date.
@Suite("File downloads")
struct FileDownloadTests {
    @Test("an HTTP date is seconds since the epoch", arguments: [
        ("Thu, 02 Jan 2020 03:04:05 GMT", 1_577_934_245),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
        ("Sun, 29 Feb 2032 23:59:60 GMT", 1_961_712_000),
    ])
    func httpDate(text: String, seconds: Int) {
        #expect(FileDownload.httpDate(text) == seconds)
    }

    @Test("another date form, or a broken one, is no date", arguments: [
        "Thursday, 02-Jan-20 03:04:05 GMT", "Thu Jan  2 03:04:05 2020", "Thu, 02 Jan 2020 03:04:05 UTC",
        "Thu, 32 Jan 2020 03:04:05 GMT", "Thu, 02 Foo 2020 03:04:05 GMT", "Thu, 02 Jan 2020 24:00:00 GMT", "",
    ])
    func notADate(text: String) {
        #expect(FileDownload.httpDate(text) == nil)
    }
}
