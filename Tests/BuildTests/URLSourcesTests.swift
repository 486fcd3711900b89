@testable import Build
import Testing

/// The name ADD gives a download in a destination directory.
@Suite("ADD's URL sources")
struct URLSourcesTests {
    @Test("the last component of the URL's path, percent-decoded, without query or fragment", arguments: [
        ("https://example.com/dl/app.tar.gz", "app.tar.gz"),
        ("http://127.0.0.1:8080/notes.txt?version=2#top", "notes.txt"),
        ("https://example.com/dl/app%201.tgz", "app 1.tgz"),
        ("https://example.com/dl/100%zz", "100%zz"),
    ])
    func fileName(url: String, name: String) {
        #expect(URLSources.fileName(url) == name)
    }

    @Test("a URL whose path names no file gives no name", arguments: [
        "https://example.com", "https://example.com/", "https://example.com/dir/", "https://example.com/a/%2E%2E",
        "https://example.com/a%2Fb",
    ])
    func noName(url: String) {
        #expect(URLSources.fileName(url) == nil)
    }

    @Test("git sources are told from files")
    func gitURLs() {
        #expect(Builder.isGitURL("git@github.com:me/app.git"))
        #expect(Builder.isGitURL("https://github.com/me/app.git"))
        #expect(!Builder.isGitURL("https://example.com/app.tar.gz"))
        #expect(Builder.isURL("http://example.com/x") && !Builder.isURL("src/x"))
    }
}
