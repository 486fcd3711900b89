import Foundation
import Testing

extension Containers {
    /// A pull's memory must not grow with the image: 1 GiB of uncompressed, incompressible layers
    /// (every byte of them streams through berth, hashed and written) pulled with a peak RSS
    /// under 64 MiB. About 30 s and 3 GiB of disk (the layout, the registry's copy, the store's),
    /// so it runs with the other slow host tests: `BERTH_DEEP_IMAGE=1 swift test --skip-build
    /// --filter IntegrationTests.Containers/RegistryBigPull`.
    @Suite("RegistryBigPull", .serialized,
           .enabled(if: ProcessInfo.processInfo.environment["BERTH_DEEP_IMAGE"] == "1",
                    "pulls a 1 GiB image (about 30 s, 3 GiB of disk): set BERTH_DEEP_IMAGE=1 to run it"))
    struct RegistryBigPull {
        let fixture = Fixture.shared
        /// Layers of 256 MiB of pseudo-random data each, besides busybox's.
        static let dataLayers = 4
        static let layerBytes = 256 << 20

        @Test("A 1 GiB image of several layers pulls with peak RSS under 64 MiB, its layers verify and it runs")
        func bigPull() throws {
            let registry = try RegistryServer()
            defer { registry.stop() }
            if let error = fixture.setupError { throw FixtureError(message: error) }
            let work = fixture.workspace.appendingPathComponent("big-pull-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: work) }
            let layout = work + "/layout"
            let layers = try makeLayout(layout, scratch: work)
            let name = "\(registry.address)/big/image:1"
            // --preserve-digests: skopeo would gzip uncompressed layers for a registry otherwise.
            let copied = try Command.run("/usr/bin/skopeo", ["copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false",
                                                            "oci:\(layout):1", "docker://\(name)"], timeout: 600)
            try #require(copied.status == 0, "skopeo copy: \(copied.stderr)")
            try FileManager.default.removeItem(atPath: layout)

            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let pulled = try spawnMeasuringRSS(fixture.berth, ["--root", store.path, "pull", "-q", name],
                                               output: work + "/pull.out", timeout: 600)
            try #require(pulled.status == 0, "berth pull: \(pulled.output)")
            #expect(pulled.maxRSSKiB > 0)
            #expect(pulled.maxRSSKiB < 64 << 10, "berth pull's peak RSS was \(pulled.maxRSSKiB) KiB, over 64 MiB")
            print("RegistryBigPull: pulled \(layers.count) layers, \(Self.dataLayers * Self.layerBytes >> 20) MiB of data, "
                  + "berth pull's peak RSS \(pulled.maxRSSKiB) KiB")

            // Every layer in the store, checked by another hasher than berth's.
            for digest in layers {
                let hex = String(digest.dropFirst("sha256:".count))
                let summed = try Command.run("/usr/bin/sha256sum", [store.path + "/oci/blobs/sha256/" + hex], timeout: 120)
                #expect(summed.stdout.hasPrefix(hex + " "), "layer \(digest) in the store: \(summed.stdout) \(summed.stderr)")
            }
            let script = (0..<Self.dataLayers).map { "wc -c < /data/\($0)" }.joined(separator: "; ")
            let ran = try store.run(["--rm", "--pull", "never", name, "sh", "-c", script], timeout: 300)
            #expect(ran.status == 0, "\(ran.stderr)")
            #expect(ran.stdout == String(repeating: "\(Self.layerBytes)\n", count: Self.dataLayers), "\(ran.stdout)")
        }

        /// An OCI layout tagged "1" at `layout`: busybox as the first layer, then `dataLayers`
        /// uncompressed layers of one file each, `/data/<i>`, of `layerBytes` pseudo-random
        /// bytes (a random MiB from /dev/urandom, each copy of it stamped with its layer and
        /// position, so no two blocks and no two layers are alike). Returns the layers' digests.
        func makeLayout(_ layout: String, scratch: String) throws -> [String] {
            let blobs = layout + "/blobs/sha256"
            try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
            let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
            var block = try #require(try random.read(upToCount: 1 << 20))
            try random.close()
            var layers: [String] = []
            var sizes: [Int] = []
            // Adds the tar at `path` as a blob; its digest is its diff id too (uncompressed).
            func adopt(_ path: String) throws {
                let summed = try Command.run("/usr/bin/sha256sum", [path], timeout: 120)
                let hex = String(summed.stdout.prefix(64))
                try #require(summed.status == 0 && hex.count == 64, "sha256sum \(path): \(summed.stderr)")
                try FileManager.default.moveItem(atPath: path, toPath: blobs + "/" + hex)
                layers.append("sha256:" + hex)
                let size = try FileManager.default.attributesOfItem(atPath: blobs + "/" + hex)[.size] as? NSNumber
                sizes.append(try #require(size).intValue)
            }
            let base = try Command.run("/bin/tar", ["-cf", scratch + "/base.tar", "-C", fixture.rootfs, "."], timeout: 120)
            try #require(base.status == 0, "tar: \(base.stderr)")
            try adopt(scratch + "/base.tar")

            let dataDirectory = scratch + "/tree/data"
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            for layer in 0..<Self.dataLayers {
                let file = dataDirectory + "/\(layer)"
                try #require(FileManager.default.createFile(atPath: file, contents: nil))
                let handle = try #require(FileHandle(forWritingAtPath: file))
                for position in 0..<(Self.layerBytes >> 20) {
                    let stamp = withUnsafeBytes(of: (UInt64(layer), UInt64(position))) { Data($0) }
                    block.replaceSubrange(0..<stamp.count, with: stamp)
                    try handle.write(contentsOf: block)
                }
                try handle.close()
                let tar = scratch + "/layer\(layer).tar"
                let packed = try Command.run("/bin/tar", ["-cf", tar, "-C", scratch + "/tree", "data/\(layer)"], timeout: 120)
                try #require(packed.status == 0, "tar: \(packed.stderr)")
                try FileManager.default.removeItem(atPath: file)
                try adopt(tar)
            }

            func document(_ object: [String: Any]) throws -> (digest: String, size: Int) {
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                let path = scratch + "/document.json"
                try data.write(to: URL(fileURLWithPath: path))
                let summed = try Command.run("/usr/bin/sha256sum", [path])
                let hex = String(summed.stdout.prefix(64))
                try FileManager.default.moveItem(atPath: path, toPath: blobs + "/" + hex)
                return ("sha256:" + hex, data.count)
            }
            let config = try document([
                "architecture": "amd64", "os": "linux", "config": ["Cmd": ["/bin/sh"]],
                "rootfs": ["type": "layers", "diff_ids": layers] as [String: Any],
            ])
            let manifest = try document([
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.digest, "size": config.size] as [String: Any],
                "layers": zip(layers, sizes).map { digest, size in
                    ["mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": size] as [String: Any]
                },
            ])
            let index: [String: Any] = [
                "schemaVersion": 2,
                "manifests": [[
                    "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest.digest, "size": manifest.size,
                    "annotations": ["org.opencontainers.image.ref.name": "1"],
                ] as [String: Any]],
            ]
            try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: layout + "/index.json"))
            try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: layout + "/oci-layout"))
            return layers
        }
    }
}

/// A child's exit status, its stdout and stderr together, and its peak RSS (KiB).
struct MeasuredRun {
    let status: Int32
    let output: String
    let maxRSSKiB: Int
}

/// Runs `path ARGS` under GNU time, which reports its peak RSS: time forks it from its own small
/// process. A child posix_spawn'ed by the test shares the test process's memory until its exec,
/// and Linux carries that memory's peak into the child's `ru_maxrss` (it read 354 MB for a pull
/// of 55 MiB once the suite had grown the test process). stdout and stderr go to the file
/// `output`; the whole process group is killed after `timeout` seconds.
func spawnMeasuringRSS(_ path: String, _ arguments: [String], output: String, timeout: Double) throws -> MeasuredRun {
    let rssFile = output + ".rss"
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
    posix_spawnattr_setpgroup(&attributes, 0)
    let command = ["/usr/bin/time", "-f", "%M", "-o", rssFile, path] + arguments
    let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, command[0], &actions, &attributes, argv, environ)
    guard spawned == 0 else { throw FixtureError(message: "posix_spawn \(command[0]): \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(timeout)
    // Polled every 20 ms, at most `timeout` s: then killed, and reaped for good.
    while true {
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid { break }
        if reaped < 0 && errno != EINTR { throw FixtureError(message: "waitpid \(pid): errno \(errno)") }
        if Date() > deadline {
            kill(-pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            throw FixtureError(message: "\(path) \(arguments) did not finish within \(timeout) s")
        }
        usleep(20_000)
    }
    let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    // time's last line is %M; before it, "Command exited with non-zero status N" when it failed.
    let report = (try? String(contentsOfFile: rssFile, encoding: .utf8)) ?? ""
    let rss = report.split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
    // Exited normally: the low 7 bits are 0 and the status is in the next byte; a signal as 128+N.
    let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return MeasuredRun(status: code, output: text, maxRSSKiB: rss)
}
