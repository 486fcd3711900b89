import Foundation
import Testing

extension Containers {
    /// What a pull leaves behind when it cannot finish: a registry it cannot reach is one line,
    /// and the partial download of a pull that was killed is kept for a resume until a prune,
    /// which spares the downloads of pulls still running.
    @Suite("RegistryDownloads", .serialized)
    struct RegistryDownloads {
        let fixture = Fixture.shared

        @Test("a registry nothing listens on: one line saying so as the system does, exit 1, within the back-off",
              arguments: ["127.0.0.1:1", "localhost:1"])
        func unreachable(registry: String) throws {
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let started = Date()
            let pulled = try store.berth(["pull", "\(registry)/team/app:v1"], timeout: 60)
            let seconds = Date().timeIntervalSince(started)
            #expect(pulled.status == 1, "\(pulled.stdout) \(pulled.stderr)")
            let lines = pulled.stderr.split(separator: "\n").filter { !$0.contains("warning:") }
            #expect(lines == ["berth: cannot reach registry \(registry): Connection refused"], "\(pulled.stderr)")
            // Four attempts 0.25 s, 0.5 s and 1 s apart (under 2 s of waiting): not four connect
            // timeouts of 10 s, nor a storm of retries.
            #expect(seconds < 20, "the pull took \(seconds) s")
            #expect(store.blobs.isEmpty)
        }

        /// `berth pull NAME` in the background, its output in a file (never a pipe nobody reads).
        func startPull(_ store: ImageStoreRoot, _ name: String) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: fixture.berth)
            process.arguments = ["--root", store.path, "pull", "-q", name]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }

        /// The bytes of the store's download file for layer `hex`, or nil when there is none.
        func downloaded(_ store: ImageStoreRoot, _ hex: String) -> Int? {
            var st = stat()
            return lstat(store.path + "/downloads/" + hex, &st) == 0 ? Int(st.st_size) : nil
        }

        @Test("prune removes the partial download of a killed pull and keeps a running pull's")
        func pruneDownloads() throws {
            let registry = try RegistryServer()
            defer { registry.stop() }
            let pull = RegistryPull()
            let killedDigest = try pull.publish(registry, "team/app:killed", motd: "killed mid-blob\n")
            let runningDigest = try pull.publish(registry, "team/app:running", motd: "pulled beside a prune\n")
            /// The hex digests of the image's config and of its one layer.
            func blobs(_ manifestDigest: String) throws -> (config: String, layer: String) {
                let data = try Data(contentsOf: URL(fileURLWithPath: registry.blobFile(String(manifestDigest.dropFirst(7)))))
                let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
                let config = try #require(manifest["config"] as? [String: Any])
                let layers = try #require(manifest["layers"] as? [[String: Any]])
                try #require(layers.count == 1)
                return (String(try #require(config["digest"] as? String).dropFirst(7)),
                        String(try #require(layers[0]["digest"] as? String).dropFirst(7)))
            }
            let (killedConfig, killedLayer) = try blobs(killedDigest)
            let runningLayer = try blobs(runningDigest).layer
            let layerBytes = try #require(try FileManager.default.attributesOfItem(atPath: registry.blobFile(killedLayer))[.size] as? Int)

            // The registry's answers at an eighth of the layer a second: a pull is mid-blob for
            // seconds, long enough for the prune to run beside it even in the slow VM.
            let port = try RegistryServer.freePort()
            let proxy = Process()
            proxy.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            proxy.arguments = [fixture.repository.appendingPathComponent("Tests/IntegrationTests/Fixtures/slow-proxy.py").path,
                               "--port", "\(port)", "--upstream", "\(registry.port)", "--rate", "\(max(layerBytes / 8, 32 << 10))"]
            proxy.standardInput = FileHandle.nullDevice
            proxy.standardOutput = FileHandle.nullDevice
            proxy.standardError = FileHandle.nullDevice
            try proxy.run()
            defer {
                kill(proxy.processIdentifier, SIGKILL)
                proxy.waitUntilExit()
            }
            try #require(eventually { RegistryServer.accepts(port) }, "the proxy did not start")
            let slow = "127.0.0.1:\(port)/team/app"

            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let killed = try startPull(store, slow + ":killed")
            defer {
                if killed.isRunning { kill(killed.processIdentifier, SIGKILL) }
                killed.waitUntilExit()
            }
            // The config downloads beside the layer: the kill waits until it is a blob, so that the
            // layer's is the one partial download the killed pull leaves.
            let midBlob = eventually(within: 30) {
                (downloaded(store, killedLayer) ?? 0) > 0 && store.blobs.contains(killedConfig)
            }
            kill(killed.processIdentifier, SIGKILL)
            killed.waitUntilExit()
            try #require(midBlob, "the pull never started the layer's download")
            let partial = try #require(downloaded(store, killedLayer))
            #expect(partial < layerBytes, "the pull was killed mid-blob: \(partial) of \(layerBytes) bytes")
            #expect(!store.blobs.contains(killedLayer))

            let running = try startPull(store, slow + ":running")
            defer {
                if running.isRunning { kill(running.processIdentifier, SIGKILL) }
                running.waitUntilExit()
            }
            try #require(eventually(within: 30) { (downloaded(store, runningLayer) ?? 0) > 0 }, "the second pull never started")
            let pruned = try store.berth(["image", "prune"])
            #expect(pruned.status == 0, "\(pruned.stderr)")
            #expect(pruned.stdout.contains("Deleted partial downloads of interrupted pulls: 1"), "\(pruned.stdout)")
            #expect(!pruned.stdout.contains("Total reclaimed space: 0B"), "\(pruned.stdout)")
            #expect(downloaded(store, killedLayer) == nil, "the killed pull's partial download is gone")
            #expect(running.isRunning, "the second pull was still running at the prune")
            #expect(downloaded(store, runningLayer) != nil, "the running pull's download is kept")

            // The running pull ends well: its download became a verified blob.
            try #require(eventually(within: 60, poll: 0.1) { !running.isRunning }, "the second pull did not end")
            #expect(running.terminationStatus == 0)
            #expect(store.blobs.contains(runningLayer))
            let ran = try store.run(["--rm", "--pull", "never", slow + ":running", "cat", "/etc/motd"])
            #expect(ran.stdout == "pulled beside a prune\n", "\(ran.stderr)")
        }
    }
}
