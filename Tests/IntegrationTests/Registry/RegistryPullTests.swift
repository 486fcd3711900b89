import Foundation
import Testing

extension Containers {
    /// `berth pull` against a real registry (Debian's docker-registry) that skopeo filled: OCI and
    /// Docker schema 2 manifests, by tag and by digest, `run --pull`, and the faults a pull must
    /// survive with one line, exit 1 and nothing half-written.
    @Suite("RegistryPull", .serialized)
    struct RegistryPull {
        let fixture = Fixture.shared

        /// A busybox image with /etc/motd, saved by berth and copied into `registry` by skopeo as
        /// `name` (OCI manifest, or Docker schema 2 with `dockerFormat`). Returns its digest
        /// there, as skopeo reads it.
        func publish(_ registry: RegistryServer, _ name: String, motd: String, dockerFormat: Bool = false) throws -> String {
            let source = try ImageStoreRoot(fixture)
            defer { source.destroy() }
            let tree = try source.busyboxCopy(files: ["etc/motd": motd])
            defer { try? FileManager.default.removeItem(atPath: tree) }
            let imported = try source.berth(["import", tree, "app:src"])
            guard imported.status == 0 else { throw FixtureError(message: "import: \(imported.stderr)") }
            let archive = source.path + ".tar"
            defer { try? FileManager.default.removeItem(atPath: archive) }
            let saved = try source.berth(["save", "-o", archive, "app:src"])
            guard saved.status == 0 else { throw FixtureError(message: "save: \(saved.stderr)") }
            let copied = try Command.run("/usr/bin/skopeo", ["copy", "--quiet", "--dest-tls-verify=false"]
                                         + (dockerFormat ? ["--format", "v2s2"] : [])
                                         + ["oci-archive:" + archive, "docker://\(registry.address)/\(name)"], timeout: 120)
            guard copied.status == 0 else { throw FixtureError(message: "skopeo copy: \(copied.stderr)") }
            return try inspectDigest(registry, name)
        }

        func inspectDigest(_ registry: RegistryServer, _ name: String) throws -> String {
            let inspected = try Command.run("/usr/bin/skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                                                               "docker://\(registry.address)/\(name)"], timeout: 60)
            guard inspected.status == 0 else { throw FixtureError(message: "skopeo inspect: \(inspected.stderr)") }
            return inspected.output
        }

        @Test("skopeo's OCI and Docker images pull and run, by tag and by digest; images --digests shows the digest")
        func pullAndRun() throws {
            let registry = try RegistryServer()
            defer { registry.stop() }
            let ociDigest = try publish(registry, "team/app:oci", motd: "oci image\n")
            let dockerDigest = try publish(registry, "team/app:docker", motd: "docker image\n", dockerFormat: true)
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }

            let pulled = try store.berth(["pull", "\(registry.address)/team/app:oci"], timeout: 120)
            try #require(pulled.status == 0, "\(pulled.stderr)")
            #expect(pulled.stdout.contains("Digest: \(ociDigest)"), "\(pulled.stdout)")
            #expect(pulled.stderr.contains("plain HTTP"), "loopback is plain HTTP, with a warning: \(pulled.stderr)")
            let ran = try store.run(["--rm", "\(registry.address)/team/app:oci", "cat", "/etc/motd"])
            #expect(ran.status == 0, "\(ran.stderr)")
            #expect(ran.stdout == "oci image\n")

            let docker = try store.berth(["pull", "-q", "\(registry.address)/team/app:docker"], timeout: 120)
            try #require(docker.status == 0, "\(docker.stderr)")
            #expect(docker.output == "\(registry.address)/team/app:docker")
            let ranDocker = try store.run(["--rm", "\(registry.address)/team/app:docker", "cat", "/etc/motd"])
            #expect(ranDocker.stdout == "docker image\n", "\(ranDocker.stderr)")

            let images = try store.berth(["images", "--digests"])
            #expect(images.status == 0, "\(images.stderr)")
            let rows = table(images.stdout)
            #expect(rows.contains { $0["TAG"] == "oci" && $0["DIGEST"] == ociDigest }, "\(images.stdout)")
            #expect(rows.contains { $0["TAG"] == "docker" && $0["DIGEST"] == dockerDigest }, "\(images.stdout)")

            // By digest, into another store, then found again by NAME@DIGEST.
            let other = try ImageStoreRoot(fixture)
            defer { other.destroy() }
            let byDigest = try other.berth(["pull", "\(registry.address)/team/app@\(ociDigest)"], timeout: 120)
            try #require(byDigest.status == 0, "\(byDigest.stderr)")
            let ranByDigest = try other.run(["--rm", "--pull", "never", "\(registry.address)/team/app@\(ociDigest)", "cat", "/etc/motd"])
            #expect(ranByDigest.stdout == "oci image\n", "\(ranByDigest.stderr)")
        }

        @Test("run pulls a missing image (--pull missing, the default); --pull never does not")
        func runPulls() throws {
            let registry = try RegistryServer()
            defer { registry.stop() }
            _ = try publish(registry, "app:v1", motd: "pulled by run\n")
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let never = try store.run(["--rm", "--pull", "never", "\(registry.address)/app:v1", "cat", "/etc/motd"])
            #expect(never.status == 125, "\(never.stdout) \(never.stderr)")
            #expect(store.blobs.isEmpty)
            let ran = try store.run(["--rm", "\(registry.address)/app:v1", "cat", "/etc/motd"], timeout: 120)
            #expect(ran.status == 0, "\(ran.stderr)")
            #expect(ran.stdout == "pulled by run\n", "the pull's progress goes to stderr: \(ran.stdout)")
            #expect(ran.stderr.contains("Unable to find image"), "\(ran.stderr)")
        }

        /// What an interrupted pull left in downloads/ is kept and only the rest is asked for: the
        /// registry's copy is damaged in the part the store already has, so only a Range request
        /// for the rest can give the right digest.
        @Test("an interrupted download resumes with a Range request")
        func resumes() throws {
            let registry = try RegistryServer()
            defer { registry.stop() }
            let digest = try publish(registry, "app:v1", motd: "resumed\n")
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let manifestData = try Data(contentsOf: URL(fileURLWithPath: registry.blobFile(String(digest.dropFirst(7)))))
            let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
            let layer = try #require((manifest["layers"] as? [[String: Any]])?.first?["digest"] as? String).dropFirst(7)
            let file = registry.blobFile(String(layer))
            var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            let kept = bytes.count - 1000
            try FileManager.default.createDirectory(atPath: store.path + "/downloads", withIntermediateDirectories: true)
            try bytes.prefix(kept).write(to: URL(fileURLWithPath: store.path + "/downloads/" + layer))
            bytes[kept / 2] ^= 0xff
            try bytes.write(to: URL(fileURLWithPath: file))

            let pulled = try store.berth(["pull", "\(registry.address)/app:v1"], timeout: 120)
            #expect(pulled.status == 0, "\(pulled.stderr)")
            let ran = try store.run(["--rm", "--pull", "never", "\(registry.address)/app:v1", "cat", "/etc/motd"])
            #expect(ran.stdout == "resumed\n", "\(ran.stderr)")
            #expect(store.blobs.contains(String(layer)))
        }

        /// One line on stderr, exit 1, and the store as it was.
        /// `ignoring`: a blob that was verified and stored before the fault (a config), which names
        /// nothing and which prune removes.
        func expectRefused(_ result: Command.Result, _ store: ImageStoreRoot, before: [String], saying words: [String],
                           ignoring: String? = nil) {
            #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
            let lines = result.stderr.split(separator: "\n").filter { !$0.contains("warning:") }
            #expect(lines.count == 1, "\(result.stderr)")
            for word in words { #expect(result.stderr.contains(word), "\(result.stderr)") }
            #expect(store.listing().filter { line in ignoring.map { !line.contains($0) } ?? true } == before, "the store changed")
        }

        @Test("faults: a 404 tag, a registry that is down, a corrupt blob: one line, exit 1, nothing half-written")
        func faults() throws {
            let registry = try RegistryServer()
            defer { registry.stop() }
            let digest = try publish(registry, "app:v1", motd: "x\n")
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            _ = try store.berth(["images"])
            let before = store.listing()

            let missing = try store.berth(["pull", "\(registry.address)/app:nope"])
            expectRefused(missing, store, before: before, saying: ["app:nope", "404"])

            // Every layer's blob damaged in place: same size, other bytes.
            let manifestData = try Data(contentsOf: URL(fileURLWithPath: registry.blobFile(String(digest.dropFirst(7)))))
            let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
            let config = try #require((manifest["config"] as? [String: Any])?["digest"] as? String).dropFirst(7)
            let layers = try #require(manifest["layers"] as? [[String: Any]]).compactMap { ($0["digest"] as? String)?.dropFirst(7) }
                .map(String.init)
            #expect(!layers.isEmpty)
            for hex in layers {
                let file = registry.blobFile(hex)
                var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                bytes[bytes.count / 2] ^= 0xff
                try bytes.write(to: URL(fileURLWithPath: file))
            }
            let corrupt = try store.berth(["pull", "\(registry.address)/app:v1"], timeout: 120)
            expectRefused(corrupt, store, before: before, saying: ["damaged", "nothing was stored"], ignoring: String(config))
            #expect(!store.blobs.contains { hex in layers.contains(hex) })
            let downloads = (try? FileManager.default.contentsOfDirectory(atPath: store.path + "/downloads")) ?? []
            #expect(downloads.isEmpty, "\(downloads)")

            registry.stop()
            let down = try store.berth(["pull", "\(registry.address)/app:v1"], timeout: 120)
            expectRefused(down, store, before: before, saying: ["cannot reach registry \(registry.address): Connection refused"],
                          ignoring: String(config))
        }

        /// `data` as a blob of the OCI layout at `layout`: its descriptor's digest and size.
        func writeBlob(_ data: Data, in layout: String) throws -> (digest: String, size: Int) {
            let file = layout + "/blob.tmp"
            try data.write(to: URL(fileURLWithPath: file))
            let sum = try Command.run("/usr/bin/sha256sum", [file])
            let hex = try #require(sum.output.split(separator: " ").first.map(String.init))
            try FileManager.default.moveItem(atPath: file, toPath: "\(layout)/blobs/sha256/\(hex)")
            return ("sha256:" + hex, data.count)
        }

        func json(_ object: [String: Any]) throws -> Data { try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) }

        /// An OCI index of two images made by hand (berth's saved busybox as linux/amd64, one
        /// layer of its own as linux/arm64), copied in by `skopeo copy --all`.
        @Test("a multi-platform index: the host's amd64 entry pulls and runs; --platform linux/arm64 pulls the other")
        func multiPlatform() throws {
            let registry = try RegistryServer()
            defer { registry.stop() }
            let source = try ImageStoreRoot(fixture)
            defer { source.destroy() }
            let tree = try source.busyboxCopy(files: ["etc/motd": "amd64 image\n"])
            try #require(try source.berth(["import", tree, "app:amd64"]).status == 0)
            let layout = source.path + "-layout"
            try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: true)
            let saved = try source.berth(["save", "-o", layout + ".tar", "app:amd64"])
            try #require(saved.status == 0, "\(saved.stderr)")
            let untarred = try Command.run("/bin/tar", ["-xf", layout + ".tar", "-C", layout])
            try #require(untarred.status == 0, "\(untarred.stderr)")
            let savedIndex = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: layout + "/index.json")))
            let amd64 = try #require(((savedIndex as? [String: Any])?["manifests"] as? [[String: Any]])?.first)

            let armTree = source.path + "-arm64"
            try FileManager.default.createDirectory(atPath: armTree + "/etc", withIntermediateDirectories: true)
            try "arm64 image\n".write(toFile: armTree + "/etc/motd", atomically: false, encoding: .utf8)
            // Compressed already: skopeo would gzip an uncompressed layer on its way and change every digest.
            let layerTar = source.path + "-arm64.tar"
            let tarred = try Command.run("/bin/sh", ["-c", "tar -cf \(layerTar) -C \(armTree) etc && sha256sum \(layerTar) && gzip -n \(layerTar)"])
            try #require(tarred.status == 0, "\(tarred.stderr)")
            let diffID = try #require(tarred.output.split(separator: " ").first.map { "sha256:" + $0 })
            let layer = try writeBlob(Data(contentsOf: URL(fileURLWithPath: layerTar + ".gz")), in: layout)
            let config = try writeBlob(json([
                "architecture": "arm64", "os": "linux", "config": ["Cmd": ["/bin/sh"]],
                "rootfs": ["type": "layers", "diff_ids": [diffID]] as [String: Any],
            ]), in: layout)
            let arm64 = try writeBlob(json([
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.digest, "size": config.size] as [String: Any],
                "layers": [["mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer.digest, "size": layer.size] as [String: Any]],
            ]), in: layout)
            let index = try writeBlob(json([
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [
                    ["mediaType": amd64["mediaType"] ?? "", "digest": amd64["digest"] ?? "", "size": amd64["size"] ?? 0,
                     "platform": ["architecture": "amd64", "os": "linux"]] as [String: Any],
                    ["mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm64.digest, "size": arm64.size,
                     "platform": ["architecture": "arm64", "os": "linux"]] as [String: Any],
                ],
            ]), in: layout)
            try json([
                "schemaVersion": 2,
                "manifests": [["mediaType": "application/vnd.oci.image.index.v1+json", "digest": index.digest, "size": index.size,
                               "annotations": ["org.opencontainers.image.ref.name": "multi"]] as [String: Any]],
            ]).write(to: URL(fileURLWithPath: layout + "/index.json"))
            let name = "\(registry.address)/team/multi:v1"
            let copied = try Command.run("/usr/bin/skopeo", ["copy", "--all", "--quiet", "--dest-tls-verify=false",
                                                            "oci:\(layout):multi", "docker://\(name)"], timeout: 120)
            try #require(copied.status == 0, "\(copied.stderr)")
            #expect(try inspectDigest(registry, "team/multi:v1") == index.digest, "the registry holds the index as made")

            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            let pulled = try store.berth(["pull", name], timeout: 120)
            try #require(pulled.status == 0, "\(pulled.stderr)")
            let ran = try store.run(["--rm", "--pull", "never", name, "cat", "/etc/motd"])
            #expect(ran.status == 0 && ran.stdout == "amd64 image\n", "\(ran.stdout) \(ran.stderr)")
            #expect(try store.berth(["image", "inspect", "--format", "{{.Architecture}}", name]).output == "amd64")
            #expect(!store.blobs.contains(String(layer.digest.dropFirst(7))), "the arm64 layer was not fetched")

            // The index's digest names the image pulled from it, as Docker resolves it: run and
            // inspect by NAME@INDEX, RepoDigests and images --digests show the index's digest.
            let byIndex = "\(registry.address)/team/multi@\(index.digest)"
            let ranByIndex = try store.run(["--rm", "--pull", "never", byIndex, "cat", "/etc/motd"])
            #expect(ranByIndex.status == 0 && ranByIndex.stdout == "amd64 image\n", "\(ranByIndex.stdout) \(ranByIndex.stderr)")
            let repoDigests = try store.berth(["image", "inspect", "--format", "{{json .RepoDigests}}", name])
            #expect(repoDigests.output == "[\"\(byIndex)\"]", "\(repoDigests.stdout) \(repoDigests.stderr)")
            let listed = table(try store.berth(["images", "--digests"]).stdout)
            #expect(listed.contains { $0["TAG"] == "v1" && $0["DIGEST"] == index.digest }, "\(listed)")
            #expect(pulled.stdout.contains("Digest: \(index.digest)"), "the pull names the index: \(pulled.stdout)")

            // save --platform: the platform the store holds saves; another is one line, and no archive.
            let archive = store.path + "-amd64.tar"
            defer { try? FileManager.default.removeItem(atPath: archive) }
            let savedAMD64 = try store.berth(["save", "--platform", "linux/amd64", "-o", archive, name])
            #expect(savedAMD64.status == 0, "\(savedAMD64.stderr)")
            let listedArchive = try Command.run("/bin/tar", ["-tf", archive])
            #expect(listedArchive.stdout.contains("blobs/sha256/\(String(amd64["digest"] as? String ?? "").dropFirst(7))"),
                    "\(listedArchive.stdout)")
            let armArchive = store.path + "-arm64.tar"
            let savedARM64 = try store.berth(["save", "--platform", "linux/arm64", "-o", armArchive, name])
            #expect(savedARM64.status == 1, "\(savedARM64.stdout) \(savedARM64.stderr)")
            #expect(savedARM64.stderr.split(separator: "\n").count == 1
                        && savedARM64.stderr.contains("holds it for linux/amd64 only"), "\(savedARM64.stderr)")
            #expect(!FileManager.default.fileExists(atPath: armArchive))

            // A store that never saw the tag: run pulls by the index's digest, and pull does too.
            let fresh = try ImageStoreRoot(fixture)
            defer { fresh.destroy() }
            let ranFresh = try fresh.run(["--rm", byIndex, "cat", "/etc/motd"], timeout: 120)
            #expect(ranFresh.status == 0 && ranFresh.stdout == "amd64 image\n", "\(ranFresh.stdout) \(ranFresh.stderr)")
            let pulledAgain = try fresh.berth(["pull", "-q", byIndex], timeout: 120)
            #expect(pulledAgain.status == 0 && pulledAgain.output == byIndex, "\(pulledAgain.stdout) \(pulledAgain.stderr)")
            let freshDigests = try fresh.berth(["image", "inspect", "--format", "{{json .RepoDigests}}", byIndex])
            #expect(freshDigests.output == "[\"\(byIndex)\"]", "\(freshDigests.stdout) \(freshDigests.stderr)")
            #expect(try fresh.berth(["image", "inspect", "--format", "{{.Architecture}}", byIndex]).output == "amd64")
            let otherRepository = try fresh.run(["--rm", "--pull", "never", "\(registry.address)/team/other@\(index.digest)", "true"])
            #expect(otherRepository.status == 125, "a digest names an image only in its own repository: \(otherRepository.stderr)")

            let other = try ImageStoreRoot(fixture)
            defer { other.destroy() }
            let arm = try other.berth(["pull", "--platform", "linux/arm64", name], timeout: 120)
            try #require(arm.status == 0, "\(arm.stderr)")
            let architecture = try other.berth(["image", "inspect", "--format", "{{.Architecture}}", name])
            #expect(architecture.output == "arm64", "\(architecture.stdout) \(architecture.stderr)")
            #expect(other.blobs.contains(String(layer.digest.dropFirst(7))), "\(other.blobs)")
            #expect(other.blobs.contains(String(arm64.digest.dropFirst(7))), "the arm64 manifest: \(other.blobs)")
        }
    }
}
