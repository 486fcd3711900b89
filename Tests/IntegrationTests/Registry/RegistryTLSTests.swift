import Foundation
import Testing

extension Containers {
    /// A registry that is not on loopback (in a network namespace of its own), so berth speaks
    /// HTTPS to it: its certificate from a test CA is refused until the CA is given with
    /// `--tls-ca` or in the user's `certs.d/HOST:PORT/ca.crt`; a plain-HTTP one there is refused
    /// until it is marked `--insecure-registry`.
    @Suite("RegistryTLS", .serialized)
    struct RegistryTLS {
        let fixture = Fixture.shared

        /// One line on stderr, exit 1, and the store as it was.
        func expectRefused(_ result: Command.Result, _ store: ImageStoreRoot, before: [String], saying words: [String]) {
            #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
            let lines = result.stderr.split(separator: "\n").filter { !$0.contains("warning:") }
            #expect(lines.count == 1, "\(result.stderr)")
            for word in words { #expect(result.stderr.contains(word), "\(result.stderr)") }
            #expect(store.listing() == before, "the store changed")
        }

        @Test("HTTPS: refused without the CA; --tls-ca and certs.d trusted for pull and push; plain HTTP only with --insecure-registry")
        func tls() throws {
            let namespace = try RegistryNamespace()
            defer { namespace.remove() }
            let certificates = FileManager.default.temporaryDirectory.appendingPathComponent("berth-tls-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: certificates, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: certificates) }
            try TestCertificates.makeServer(in: certificates, addresses: [namespace.address])
            let ca = certificates + "/ca.crt"
            let registry = try RegistryServer(tls: (certificates + "/server.crt", certificates + "/server.key"),
                                              namespace: namespace, port: 5443)
            defer { registry.stop() }
            let plain = try RegistryServer(namespace: namespace, port: 5000)
            defer { plain.stop() }

            let source = try ImageStoreRoot(fixture)
            defer { source.destroy() }
            let home = source.path + "-home"
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            func berth(_ store: ImageStoreRoot, _ args: [String], home other: String? = nil) throws -> Command.Result {
                let home = other ?? home
                var args = args
                if args.first == "run" { args.insert(contentsOf: ["--cgroup-parent", fixture.cgroupParent], at: 1) }
                return try namespace.run(["/usr/bin/env", "HOME=\(home)", "XDG_CONFIG_HOME=", fixture.berth, "--root", store.path]
                                         + Fixture.offline(args), timeout: 120)
            }
            let tree = try source.busyboxCopy(files: ["etc/motd": "over TLS\n"])
            try #require(try source.berth(["import", tree, "app:src"]).status == 0)
            let name = "\(registry.address)/me/app:v1"
            try #require(try source.berth(["tag", "app:src", name]).status == 0)
            let digest = try #require(table(try source.berth(["images", "--digests"]).stdout).first { $0["TAG"] == "v1" }?["DIGEST"])

            // Push: the unknown CA refused, then trusted with --tls-ca; skopeo, given the CA, reads it back.
            let untrustedPush = try berth(source, ["push", name])
            #expect(untrustedPush.status == 1, "\(untrustedPush.stdout) \(untrustedPush.stderr)")
            #expect(untrustedPush.stderr.split(separator: "\n").count == 1, "\(untrustedPush.stderr)")
            #expect(untrustedPush.stderr.contains("TLS certificate of registry \(registry.address) is not trusted"), "\(untrustedPush.stderr)")
            let pushed = try berth(source, ["push", "--tls-ca", ca, name])
            try #require(pushed.status == 0, "\(pushed.stderr)")
            #expect(!pushed.stderr.contains("plain HTTP"), "\(pushed.stderr)")
            let caDirectory = certificates + "/skopeo"
            try FileManager.default.createDirectory(atPath: caDirectory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: ca, toPath: caDirectory + "/ca.crt")
            let inspected = try namespace.run(["/usr/bin/skopeo", "inspect", "--cert-dir", caDirectory, "--format", "{{.Digest}}",
                                               "docker://\(name)"])
            #expect(inspected.status == 0 && inspected.output == digest, "\(inspected.stdout) \(inspected.stderr)")

            // Pull: refused without the CA (one line, exit 1, nothing stored), then with --tls-ca.
            let store = try ImageStoreRoot(fixture)
            defer { store.destroy() }
            _ = try store.berth(["images"])
            let before = store.listing()
            let untrusted = try berth(store, ["pull", name])
            expectRefused(untrusted, store, before: before, saying: ["registry \(registry.address) is not trusted", "--tls-ca"])
            let pulled = try berth(store, ["pull", "--tls-ca", ca, name])
            try #require(pulled.status == 0, "\(pulled.stderr)")
            #expect(pulled.stdout.contains("Digest: \(digest)"), "\(pulled.stdout)")
            let ran = try berth(store, ["run", "--rm", "--pull", "never", name, "cat", "/etc/motd"])
            #expect(ran.status == 0 && ran.stdout == "over TLS\n", "\(ran.stdout) \(ran.stderr)")

            // Pull with the CA in the user's certs.d/HOST:PORT/ca.crt and no flag.
            let other = try ImageStoreRoot(fixture)
            defer { other.destroy() }
            let otherHome = other.path + "-home"
            let certsD = otherHome + "/.config/berth/certs.d/\(registry.address)"
            try FileManager.default.createDirectory(atPath: certsD, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: ca, toPath: certsD + "/ca.crt")
            let byDirectory = try berth(other, ["pull", name], home: otherHome)
            #expect(byDirectory.status == 0, "\(byDirectory.stderr)")
            let ranByDirectory = try berth(other, ["run", "--rm", "--pull", "never", name, "cat", "/etc/motd"], home: otherHome)
            #expect(ranByDirectory.stdout == "over TLS\n", "\(ranByDirectory.stderr)")

            // A registry off loopback that speaks plain HTTP: only with --insecure-registry, with a warning.
            let plainName = "\(plain.address)/me/app:v1"
            try #require(try source.berth(["tag", "app:src", plainName]).status == 0)
            let plainPush = try berth(source, ["push", "--insecure-registry", plain.address, plainName])
            try #require(plainPush.status == 0, "\(plainPush.stderr)")
            #expect(plainPush.stderr.contains("plain HTTP"), "\(plainPush.stderr)")
            let third = try ImageStoreRoot(fixture)
            defer { third.destroy() }
            _ = try third.berth(["images"])
            let thirdBefore = third.listing()
            let refused = try berth(third, ["pull", plainName])
            expectRefused(refused, third, before: thirdBefore, saying: ["TLS handshake with registry \(plain.address)",
                                                                        "--insecure-registry \(plain.address)"])
            let insecure = try berth(third, ["pull", "--insecure-registry", plain.address, plainName])
            #expect(insecure.status == 0, "\(insecure.stderr)")
            #expect(insecure.stderr.contains("plain HTTP"), "\(insecure.stderr)")
        }
    }
}
