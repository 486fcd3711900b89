import Foundation
import Testing

extension Containers {
    /// `berth push` to a real registry, read back by skopeo.
    @Suite("RegistryPush", .serialized)
    struct RegistryPush {
        let fixture = Fixture.shared

        @Test("push: skopeo reads it back bit for bit; a second push moves nothing; another repository mounts")
        func push() throws {
            let registry = try RegistryServer()
            defer { registry.stop() }
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let tree = try store.busyboxCopy(files: ["etc/motd": "pushed\n"])
            defer { try? FileManager.default.removeItem(atPath: tree) }
            let name = "\(registry.address)/me/app:v1"
            try #require(try store.berth(["import", tree, "app:src"]).status == 0)
            try #require(try store.berth(["tag", "app:src", name]).status == 0)
            let local = table(try store.berth(["images", "--digests"]).stdout).first { $0["TAG"] == "v1" }?["DIGEST"]
            let digest = try #require(local)

            let pushed = try store.berth(["push", name], timeout: 120)
            try #require(pushed.status == 0, "\(pushed.stderr)")
            #expect(pushed.stdout.contains("v1: digest: \(digest)"), "\(pushed.stdout)")
            #expect(pushed.stdout.components(separatedBy: ": Pushed").count == 3, "config and layer: \(pushed.stdout)")

            let copy = try Self.readBack(name, digest: digest, into: registry.directory + "/copy")
            let index = try String(contentsOfFile: copy + "/index.json", encoding: .utf8)
            #expect(index.contains(digest), "skopeo's copy has the same manifest: \(index)")

            let again = try store.berth(["push", name], timeout: 120)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdout.components(separatedBy: ": Layer already exists").count == 3, "\(again.stdout)")
            #expect(!again.stdout.contains(": Pushed"), "\(again.stdout)")

            let other = "\(registry.address)/team/other:v1"
            try #require(try store.berth(["tag", name, other]).status == 0)
            let mounted = try store.berth(["push", other], timeout: 120)
            #expect(mounted.status == 0, "\(mounted.stderr)")
            #expect(mounted.stdout.components(separatedBy: ": Mounted from me/app").count == 3, "\(mounted.stdout)")
            let otherDigest = try Command.run("/usr/bin/skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                                                                 "docker://\(other)"], timeout: 60)
            #expect(otherDigest.output == digest, "\(otherDigest.stderr)")
        }

        @Test("a blob larger than BERTH_PUSH_CHUNK_SIZE goes up in PATCH chunks; skopeo reads it back bit for bit")
        func chunked() throws {
            let registry = try RegistryServer(logLevel: "info")
            defer { registry.stop() }
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let tree = try store.busyboxCopy(files: ["etc/motd": "chunked\n"])
            // Incompressible, so the layer is well past the chunk size whatever gzip does.
            try Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: tree + "/random.bin"))
            let name = "\(registry.address)/me/big:v1"
            try #require(try store.berth(["import", tree, "app:src"]).status == 0)
            try #require(try store.berth(["tag", "app:src", name]).status == 0)
            let digest = try #require(table(try store.berth(["images", "--digests"]).stdout).first { $0["TAG"] == "v1" }?["DIGEST"])
            let chunk = 256 << 10
            func push(chunkSize: String) throws -> Command.Result {
                try Command.run("/usr/bin/env", ["BERTH_PUSH_CHUNK_SIZE=\(chunkSize)", fixture.berth, "--root", store.path, "push", name],
                                timeout: 120)
            }
            let invalid = try push(chunkSize: "0")
            #expect(invalid.status == 125, "\(invalid.stdout) \(invalid.stderr)")
            #expect(invalid.stderr.contains("BERTH_PUSH_CHUNK_SIZE"), "\(invalid.stderr)")

            let pushed = try push(chunkSize: "\(chunk)")
            try #require(pushed.status == 0, "\(pushed.stderr)")
            #expect(pushed.stdout.contains("v1: digest: \(digest)"), "\(pushed.stdout)")

            // As many PATCH requests as the blobs past the chunk size have chunks.
            let raw = try Command.run("/usr/bin/skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(name)"], timeout: 60)
            let manifest = try #require(try JSONSerialization.jsonObject(with: Data(raw.stdout.utf8)) as? [String: Any])
            let config = try #require(manifest["config"] as? [String: Any])
            let layers = try #require(manifest["layers"] as? [[String: Any]])
            let sizes = ([config] + layers).compactMap { $0["size"] as? Int }
            let chunks = sizes.filter { $0 > chunk }.map { ($0 + chunk - 1) / chunk }.reduce(0, +)
            #expect(chunks >= 4, "the layer is past the chunk size: \(sizes)")
            let patches = registry.log.split(separator: "\n")
                .filter { $0.contains("msg=\"response completed\"") && $0.contains("http.request.method=PATCH") }.count
            #expect(patches == chunks, "\(patches) PATCH requests for \(sizes)")

            let copy = try Self.readBack(name, digest: digest, into: registry.directory + "/copy")
            for layer in layers {
                let hex = try #require((layer["digest"] as? String)?.dropFirst(7))
                let theirs = try Data(contentsOf: URL(fileURLWithPath: "\(copy)/blobs/sha256/\(hex)"))
                let ours = try Data(contentsOf: URL(fileURLWithPath: "\(store.path)/oci/blobs/sha256/\(hex)"))
                #expect(theirs == ours, "layer \(hex) differs")
            }
        }

        /// skopeo's view of the pushed `name`: its digest must be `digest`, and its copy as an
        /// OCI layout goes to `copy` (returned), for the blobs to be compared with berth's.
        static func readBack(_ name: String, digest: String, into copy: String) throws -> String {
            let inspected = try Command.run("/usr/bin/skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                                                               "docker://\(name)"], timeout: 60)
            #expect(inspected.output == digest, "\(inspected.stderr)")
            let copied = try Command.run("/usr/bin/skopeo", ["copy", "--quiet", "--src-tls-verify=false", "docker://\(name)",
                                                            "oci:\(copy):v1"], timeout: 120)
            try #require(copied.status == 0, "\(copied.stderr)")
            return copy
        }
    }
}
