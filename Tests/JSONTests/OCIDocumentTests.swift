#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import JSON
import Testing

// Small models of the documents berth reads, declared in the order the fixtures list their keys,
// so that re-encoding a decoded document gives back the same JSON value.

struct OCIPlatform: Codable, Equatable {
    var architecture: String
    var os: String
    var osVersion: String?
    var variant: String?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
    }
}

struct OCIDescriptor: Codable, Equatable {
    var mediaType: String
    var digest: String
    var size: Int64
    var platform: OCIPlatform?
    var annotations: [String: String]?
}

struct OCIManifest: Codable, Equatable {
    var schemaVersion: Int
    var mediaType: String?
    var config: OCIDescriptor
    var layers: [OCIDescriptor]
    var annotations: [String: String]?
}

struct OCIIndex: Codable, Equatable {
    var schemaVersion: Int
    var mediaType: String?
    var manifests: [OCIDescriptor]
    var annotations: [String: String]?
}

struct OCIImageConfig: Codable, Equatable {
    struct Empty: Codable, Equatable {}

    struct Exec: Codable, Equatable {
        var user: String?
        var exposedPorts: [String: Empty]?
        var env: [String]?
        var entrypoint: [String]?
        var cmd: [String]?
        var volumes: [String: Empty]?
        var workingDir: String?
        var labels: [String: String]?
        var stopSignal: String?

        enum CodingKeys: String, CodingKey {
            case user = "User", exposedPorts = "ExposedPorts", env = "Env", entrypoint = "Entrypoint", cmd = "Cmd"
            case volumes = "Volumes", workingDir = "WorkingDir", labels = "Labels", stopSignal = "StopSignal"
        }
    }

    struct RootFS: Codable, Equatable {
        var type: String
        var diffIDs: [String]

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    struct History: Codable, Equatable {
        var created: String?
        var createdBy: String?
        var comment: String?
        var emptyLayer: Bool?

        // Synthesized encoding writes keys in the order of this enum, not of the properties.
        enum CodingKeys: String, CodingKey {
            case created
            case createdBy = "created_by"
            case comment
            case emptyLayer = "empty_layer"
        }
    }

    var created: String?
    var architecture: String
    var os: String
    var config: Exec?
    var rootfs: RootFS
    var history: [History]?
}

/// The parts of an OCI runtime config.json that `crun spec` writes.
struct RuntimeSpec: Codable, Equatable {
    struct Process: Codable, Equatable {
        var terminal: Bool?
        var user: User
        var args: [String]?
        var env: [String]?
        var cwd: String
        var capabilities: Capabilities?
        var rlimits: [Rlimit]?
        var noNewPrivileges: Bool?
    }

    struct User: Codable, Equatable {
        var uid: UInt32
        var gid: UInt32
        var additionalGids: [UInt32]?
    }

    struct Capabilities: Codable, Equatable {
        var bounding: [String]?
        var effective: [String]?
        var inheritable: [String]?
        var permitted: [String]?
        var ambient: [String]?
    }

    struct Rlimit: Codable, Equatable {
        var type: String
        var hard: UInt64
        var soft: UInt64
    }

    struct Root: Codable, Equatable {
        var path: String
        var readonly: Bool?
    }

    struct Mount: Codable, Equatable {
        var destination: String
        var type: String?
        var source: String?
        var options: [String]?
    }

    struct IDMapping: Codable, Equatable {
        var containerID: UInt32
        var hostID: UInt32
        var size: UInt32
    }

    struct Linux: Codable, Equatable {
        var uidMappings: [IDMapping]?
        var gidMappings: [IDMapping]?
        var resources: Resources?
        var namespaces: [Namespace]?
        var maskedPaths: [String]?
        var readonlyPaths: [String]?
    }

    struct Resources: Codable, Equatable {
        var devices: [DeviceRule]?
    }

    struct DeviceRule: Codable, Equatable {
        var allow: Bool
        var access: String?
    }

    enum NamespaceType: String, Codable, Equatable {
        case pid, network, ipc, uts, user, mount, cgroup, time
    }

    struct Namespace: Codable, Equatable {
        var type: NamespaceType
        var path: String?
    }

    var ociVersion: String
    var process: Process?
    var root: Root?
    var hostname: String?
    var mounts: [Mount]?
    var linux: Linux?
}

/// Decodes `text`, re-encodes it, decodes that again: all three must agree, and re-encoding
/// must reproduce the document's JSON value (nothing lost, nothing reordered).
func assertRoundTrip<T: Codable & Equatable>(_ type: T.Type, _ bytes: [UInt8], sameValue: Bool = true,
                                             sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
    let decoded = try JSON.decode(type, from: bytes, source: "fixture")
    let encoded = try JSON.encode(decoded)
    let again = try JSON.decode(type, from: encoded)
    #expect(again == decoded, sourceLocation: sourceLocation)
    #expect(try JSON.encode(again) == encoded, sourceLocation: sourceLocation)
    #expect(try JSON.decode(type, from: JSON.encode(decoded, pretty: true)) == decoded, sourceLocation: sourceLocation)
    if sameValue {
        let reencoded = try JSON.parse(encoded)
        #expect(reencoded == (try JSON.parse(bytes)), "\(reencoded)", sourceLocation: sourceLocation)
    }
    return decoded
}

@Suite("OCI documents")
struct OCIDocumentTests {
    static let imageConfig = #"""
        {
          "created": "2024-01-27T00:30:56.150341522Z",
          "architecture": "amd64",
          "os": "linux",
          "config": {
            "User": "1000:1000",
            "ExposedPorts": {"443/tcp": {}, "80/tcp": {}},
            "Env": [
              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
              "NGINX_VERSION=1.25.3",
              "GREETING=h\u00e9llo \"world\"\t/"
            ],
            "Entrypoint": ["/docker-entrypoint.sh"],
            "Cmd": ["nginx", "-g", "daemon off;"],
            "Volumes": {"/var/cache/nginx": {}},
            "WorkingDir": "/",
            "Labels": {"maintainer": "NGINX Docker Maintainers <docker-maint@nginx.com>", "org.opencontainers.image.version": "1.25.3"},
            "StopSignal": "SIGQUIT"
          },
          "rootfs": {
            "type": "layers",
            "diff_ids": [
              "sha256:571ade696b261f0ff46e3cdcf5d2e2e9d6b4f4ebd2ca4d4fd14e0fcd6a3ab6ca",
              "sha256:b7c0eadb6bd3a1a9f4f0b8cc4a1f2b8f5c4d1e2b3a4c5d6e7f8091a2b3c4d5e6"
            ]
          },
          "history": [
            {
              "created": "2024-01-11T00:00:00Z",
              "created_by": "/bin/sh -c #(nop) ADD file:9a2b in / "
            },
            {
              "created": "2024-01-11T00:00:01Z",
              "created_by": "/bin/sh -c #(nop)  CMD [\"bash\"]",
              "empty_layer": true
            },
            {
              "created": "2024-01-27T00:30:56Z",
              "created_by": "STOPSIGNAL SIGQUIT",
              "comment": "buildkit.dockerfile.v0",
              "empty_layer": true
            }
          ]
        }
        """#

    static let manifest = #"""
        {
          "schemaVersion": 2,
          "mediaType": "application/vnd.oci.image.manifest.v1+json",
          "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:b5d5e9a0c5fd2e4bd1a3e5d0a4a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3",
            "size": 7654
          },
          "layers": [
            {
              "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
              "digest": "sha256:2f44b7a888fa6f1d1e5f5d1c2b3a4958677f8e9d0c1b2a3948576a6b5c4d3e2f",
              "size": 29124181
            },
            {
              "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
              "digest": "sha256:8b9f7d0c1e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4",
              "size": 41503223,
              "annotations": {"org.opencontainers.image.title": "layer-2.tar.gz"}
            }
          ],
          "annotations": {
            "com.example.build": "42",
            "org.opencontainers.image.base.name": "docker.io/library/debian:bookworm-slim",
            "org.opencontainers.image.created": "2024-01-27T00:30:56Z"
          }
        }
        """#

    static let index = #"""
        {
          "schemaVersion": 2,
          "mediaType": "application/vnd.oci.image.index.v1+json",
          "manifests": [
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
              "size": 1234,
              "platform": {"architecture": "amd64", "os": "linux"},
              "annotations": {"org.opencontainers.image.ref.name": "latest"}
            },
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:1a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
              "size": 1235,
              "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}
            },
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:2a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
              "size": 2048,
              "platform": {"architecture": "amd64", "os": "windows", "os.version": "10.0.20348.2227"}
            }
          ]
        }
        """#

    @Test func imageConfig() throws {
        let config = try assertRoundTrip(OCIImageConfig.self, Array(Self.imageConfig.utf8))
        #expect(config.config?.env?[2] == "GREETING=héllo \"world\"\t/")
        #expect(config.config?.exposedPorts?.keys.sorted() == ["443/tcp", "80/tcp"])
        #expect(config.rootfs.diffIDs.count == 2)
        #expect(config.history?.map { $0.emptyLayer ?? false } == [false, true, true])
    }

    @Test func manifest() throws {
        let manifest = try assertRoundTrip(OCIManifest.self, Array(Self.manifest.utf8))
        #expect(manifest.layers.map(\.size) == [29124181, 41503223])
        #expect(manifest.layers[1].annotations?["org.opencontainers.image.title"] == "layer-2.tar.gz")
    }

    @Test func index() throws {
        let index = try assertRoundTrip(OCIIndex.self, Array(Self.index.utf8))
        #expect(index.manifests.map { $0.platform?.architecture } == ["amd64", "arm64", "amd64"])
        #expect(index.manifests[2].platform?.osVersion == "10.0.20348.2227")
    }

    @Test func runtimeConfigWithExtremeLimitsAndIDMappings() throws {
        let text = #"""
            {"ociVersion":"1.2.0","process":{"user":{"uid":4294967295,"gid":0,"additionalGids":[5,10]},"cwd":"/",
             "rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":18446744073709551615}]},
             "linux":{"uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
                      "namespaces":[{"type":"user"},{"type":"network","path":"/run/netns/berth0"}]}}
            """#
        let spec = try assertRoundTrip(RuntimeSpec.self, Array(text.utf8))
        #expect(spec.process?.user.uid == UInt32.max)
        #expect(spec.process?.rlimits?.first?.hard == UInt64.max)
        #expect(spec.linux?.namespaces?.last == RuntimeSpec.Namespace(type: .network, path: "/run/netns/berth0"))
    }

    static let crunPath: String? = ["/usr/bin/crun", "/usr/local/bin/crun", "/bin/crun"].first { access($0, X_OK) == 0 }

    @Test("config.json written by crun spec", .enabled(if: crunPath != nil, "crun is not installed"),
          arguments: [[], ["--rootless"]])
    func crunSpec(extraArguments: [String]) throws {
        let bytes = try CrunSpec.generate(crun: try #require(Self.crunPath), extraArguments: extraArguments)
        let spec = try assertRoundTrip(RuntimeSpec.self, bytes)
        #expect(spec.ociVersion.hasPrefix("1."))
        #expect(spec.process?.user.uid == 0)
        #expect(spec.process?.args == ["sh"])
        #expect(spec.process?.rlimits?.first?.type == "RLIMIT_NOFILE")
        #expect(spec.mounts?.first?.destination == "/proc")
        #expect(spec.linux?.maskedPaths?.contains("/proc/kcore") == true)
        #expect(spec.linux?.namespaces?.contains { $0.type == .mount } == true)
        #expect(spec.linux?.namespaces?.contains { $0.type == .user } == extraArguments.contains("--rootless"))
    }
}

/// Runs `crun spec` into a fresh temporary bundle directory and returns the config.json bytes.
enum CrunSpec {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func generate(crun: String, extraArguments: [String]) throws -> [UInt8] {
        var template = Array("/tmp/berth-json-crun-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw Failure(description: "mkdtemp: errno \(errno)") }
        let directory = String(cString: created)
        let file = directory + "/config.json"
        defer {
            unlink(file)
            rmdir(directory)
        }
        try run([crun, "spec", "-b", directory] + extraArguments)
        return try readFile(file)
    }

    private static func run(_ arguments: [String]) throws {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], nil, nil, &argv, environ)
        guard spawned == 0 else { throw Failure(description: "posix_spawn \(arguments[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw Failure(description: "\(arguments.joined(separator: " ")) exited with status \(status)") }
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "open \(path): errno \(errno)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw Failure(description: "read \(path): errno \(errno)") }
            if count == 0 { return bytes }
            bytes.append(contentsOf: buffer[0..<count])
        }
    }
}
