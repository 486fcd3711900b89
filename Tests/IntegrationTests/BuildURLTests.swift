import Foundation
import Testing

extension Containers.Build {
    /// A web server of the test's own on 127.0.0.1 (Python's http.server on a free port),
    /// serving `directory`; it sends Last-Modified from each file's mtime. Its output goes to
    /// /dev/null, never to a pipe: tests run in parallel, and a pipe it inherited from another
    /// test's command would keep that command's reader waiting.
    final class FileServer {
        let process = Process()
        let port: Int

        init(directory: String) throws {
            port = try RegistryServer.freePort()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-m", "http.server", "--bind", "127.0.0.1", "--directory", directory, String(port)]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Up when it accepts a connection: at most 10 s.
            for _ in 0..<200 {
                if RegistryServer.accepts(port) { return }
                usleep(50_000)
            }
            stop()
            throw FixtureError(message: "the test's web server did not start on port \(port)")
        }

        func url(_ path: String) -> String { "http://127.0.0.1:\(port)/\(path)" }

        func stop() {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    @Test("ADD of URLs: named by the URL, 0600, the server's mtime, an archive kept whole, --checksum; cached while unchanged")
    func addURLs() throws {
        let root = try BuildRoot(fixture, files: [:])
        defer { root.destroy() }
        let served = root.context + "-served"
        try FileManager.default.createDirectory(atPath: served + "/tree", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: served) }
        try "hello\n".write(toFile: served + "/notes.txt", atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_577_934_245)],
                                              ofItemAtPath: served + "/notes.txt")
        try "in the tar\n".write(toFile: served + "/tree/f.txt", atomically: false, encoding: .utf8)
        let tar = try Command.run("/bin/tar", ["-czf", served + "/app.tar.gz", "-C", served, "tree"])
        try #require(tar.status == 0)
        let sum = try Command.run("/usr/bin/sha256sum", [served + "/app.tar.gz"])
        let digest = "sha256:" + (sum.stdout.split(separator: " ").first.map(String.init) ?? "")
        let server = try FileServer(directory: served)
        defer { server.stop() }

        try root.write(["Dockerfile": """
            FROM busybox
            ADD \(server.url("notes.txt")) /data/
            ADD --checksum=\(digest) \(server.url("app.tar.gz")) /data/
            ADD --chmod=644 \(server.url("notes.txt?version=2")) /data/renamed.txt
            CMD ["sh", "-c", "cat /data/notes.txt; stat -c '%a %Y' /data/notes.txt; ls /data; stat -c %a /data/renamed.txt"]
            """])
        let built = try root.build(["-t", "fetched:1", root.context])
        try #require(built.status == 0, "\(built.stderr)")
        #expect(try root.run(["fetched:1"]).stdout == "hello\n600 1577934245\napp.tar.gz\nnotes.txt\nrenamed.txt\n644\n")

        // Unchanged content: the three ADDs and the CMD are cache hits (each URL is downloaded
        // again to know that).
        let again = try root.build(["-t", "fetched:2", root.context])
        try #require(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.components(separatedBy: "Using cache").count - 1 == 4, "\(again.stderr)")
        #expect(again.stdout == built.stdout.replacingOccurrences(of: "fetched:1", with: "fetched:2"), "the same image")

        try "changed\n".write(toFile: served + "/notes.txt", atomically: false, encoding: .utf8)
        let changed = try root.build(["-t", "fetched:3", root.context])
        try #require(changed.status == 0, "\(changed.stderr)")
        #expect(try root.run(["fetched:3", "cat", "/data/notes.txt", "/data/renamed.txt"]).stdout == "changed\nchanged\n")
    }

    @Test("ADD of a URL: a wrong --checksum, a 404, a server down, TLS to plain HTTP, COPY of a URL: one line each, nothing left")
    func addURLFailures() throws {
        let root = try BuildRoot(fixture, files: [:])
        defer { root.destroy() }
        let served = root.context + "-served"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: served) }
        try "hello\n".write(toFile: served + "/notes.txt", atomically: false, encoding: .utf8)
        let server = try FileServer(directory: served)
        defer { server.stop() }
        let wrong = "sha256:" + String(repeating: "0", count: 64)

        let cases: [(dockerfile: String, says: String)] = [
            ("ADD --checksum=\(wrong) \(server.url("notes.txt")) /n.txt", "not the --checksum \(wrong)"),
            ("ADD \(server.url("missing.txt")) /m.txt", "404"),
            ("ADD http://127.0.0.1:1/notes.txt /n.txt", "cannot download http://127.0.0.1:1/notes.txt: Connection refused"),
            ("ADD https://127.0.0.1:\(server.port)/notes.txt /n.txt", "the TLS handshake failed (WRONG_VERSION_NUMBER)"),
            ("COPY \(server.url("notes.txt")) /n.txt", "use ADD for a URL"),
            ("ADD \(server.url("")) /data/", "names no file"),
        ]
        for (instruction, says) in cases {
            try root.write(["Dockerfile": "FROM busybox\n" + instruction + "\n"])
            let built = try root.build(["-t", "bad:1", root.context])
            #expect(built.status != 0, "\(instruction)")
            // The steps go to stderr as they run; the error is the one "berth:" line, the last.
            let errors = built.stderr.split(separator: "\n").filter { $0.hasPrefix("berth:") }
            #expect(errors.count == 1 && built.stderr.hasSuffix(String(errors.last ?? "") + "\n"), "\(instruction): \(built.stderr)")
            #expect(errors.last?.contains(says) == true, "\(instruction): \(built.stderr)")
            #expect(try root.store.berth(["images", "-q", "bad"]).output.isEmpty)
            #expect(try root.leftovers().isEmpty)
        }
        let temporary = (try? FileManager.default.contentsOfDirectory(atPath: root.store.path + "/tmp")) ?? []
        #expect(temporary.isEmpty, "downloads left behind: \(temporary)")
    }
}
