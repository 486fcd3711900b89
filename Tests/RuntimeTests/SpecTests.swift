import Foundation
import Testing
import Runtime

@Suite("OCI runtime spec") struct SpecTests {
    static func decode(_ json: String) throws -> OCIRuntimeSpec {
        try JSONDecoder().decode(OCIRuntimeSpec.self, from: Data(json.utf8))
    }

    @Suite("decoding") struct Decoding {
        @Test func realisticConfig() throws {
            let spec = try SpecTests.decode(SpecConfigFixture.json)
            #expect(spec.ociVersion == "1.2.0")
            #expect(spec.hostname == "web-1" && spec.domainname == "example.internal")

            let process = try #require(spec.process)
            #expect(process.terminal == true)
            #expect(process.consoleSize == OCIRuntimeSpec.ConsoleSize(height: 40, width: 120))
            #expect(process.user == OCIRuntimeSpec.User(uid: 1000, gid: 1000, umask: 0o022, additionalGids: [10, 1000]))
            #expect(process.args?.first == "/bin/sh" && process.cwd == "/usr/share/nginx/html")
            #expect(process.capabilities?.bounding?.count == 14 && process.capabilities?.ambient == [])
            #expect(process.rlimits?.last == OCIRuntimeSpec.Rlimit(type: "RLIMIT_NPROC", hard: UInt64.max, soft: 4096))
            #expect(process.noNewPrivileges == true && process.oomScoreAdj == -500)
            #expect(process.apparmorProfile == "docker-default")

            #expect(spec.root == OCIRuntimeSpec.Root(path: "/var/lib/berth/containers/4f2a9c/merged", readonly: false))
            #expect(spec.mounts?.count == 9)
            #expect(spec.mounts?.first == OCIRuntimeSpec.Mount(destination: "/proc", type: "proc", source: "proc",
                                                                options: ["nosuid", "noexec", "nodev"]))
            #expect(spec.mounts?.last?.uidMappings == [.init(containerID: 0, hostID: 100_000, size: 65536)])
            #expect(spec.hooks?.createRuntime?.first?.timeout == 10)
            #expect(spec.hooks?.poststop?.count == 1 && spec.hooks?.prestart == nil)
            #expect(spec.annotations?["io.berth.container.name"] == "web-1")
        }

        @Test func realisticConfigLinuxSection() throws {
            let linux = try #require(try SpecTests.decode(SpecConfigFixture.json).linux)
            #expect(linux.namespaces?.count == 7)
            #expect(linux.namespaces?[1] == .init(type: "network", path: "/run/netns/berth-4f2a9c"))
            #expect(linux.uidMappings == [.init(containerID: 0, hostID: 100_000, size: 65536)])
            #expect(linux.sysctl?["net.core.somaxconn"] == "4096")
            #expect(linux.cgroupsPath == "berth/4f2a9c")
            #expect(linux.rootfsPropagation == "rprivate")
            #expect(linux.maskedPaths?.count == 10 && linux.readonlyPaths?.count == 5)
            #expect(linux.devices == [.init(type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0)])
            #expect(linux.personality == .init(domain: "LINUX"))

            let resources = try #require(linux.resources)
            #expect(resources.memory?.limit == 512 << 20 && resources.memory?.swappiness == 0)
            #expect(resources.cpu?.quota == 150_000 && resources.cpu?.period == 100_000 && resources.cpu?.cpus == "0-1")
            #expect(resources.pids?.limit == 100)
            #expect(resources.devices?.first == .init(allow: false, access: "rwm"))
            #expect(resources.devices?.last == .init(allow: true, type: "c", major: 136, access: "rwm"))
            #expect(resources.blockIO?.throttleReadBpsDevice == [.init(major: 8, minor: 0, rate: 100 << 20)])
            #expect(resources.hugepageLimits == [.init(pageSize: "2MB", limit: 200 << 20)])
            #expect(resources.unified?["io.weight"] == "default 100")

            let seccomp = try #require(linux.seccomp)
            #expect(seccomp.defaultAction == "SCMP_ACT_ERRNO" && seccomp.defaultErrnoRet == 1)
            #expect(seccomp.syscalls?[4].args == [.init(index: 0, value: 0x7e02_0000, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ")])
        }

        @Test func minimalConfig() throws {
            let spec = try SpecTests.decode(#"{"ociVersion": "1.0.0"}"#)
            #expect(spec == OCIRuntimeSpec(ociVersion: "1.0.0"))
        }

        @Test func missingRequiredFieldFails() {
            // process.cwd and process.user are required by the spec.
            #expect(throws: DecodingError.self) {
                try SpecTests.decode(#"{"ociVersion": "1.0.0", "process": {"user": {"uid": 0, "gid": 0}}}"#)
            }
        }

        /// What `crun spec` writes today decodes.
        @Test(.enabled(if: SpecTests.installed("crun") != nil, "crun is not installed"))
        func crunGeneratedSpec() throws {
            try expectGeneratedSpecDecodes(by: "crun")
        }

        /// What `runc spec` writes today decodes.
        @Test(.enabled(if: SpecTests.installed("runc") != nil, "runc is not installed"))
        func runcGeneratedSpec() throws {
            try expectGeneratedSpecDecodes(by: "runc")
        }

        private func expectGeneratedSpecDecodes(by runtime: String) throws {
            let spec = try SpecTests.decode(try SpecTests.generatedSpec(by: runtime))
            #expect(spec.process?.args == ["sh"])
            #expect(spec.root?.path == "rootfs")
            #expect(spec.linux?.maskedPaths?.contains("/proc/kcore") == true)
            #expect(try ProcessCapabilities(oci: try #require(spec.process?.capabilities)).bounding.names
                    == ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"])
        }
    }

    @Suite("encoding") struct Encoding {
        @Test func roundTripsTheRealisticConfig() throws {
            let spec = try SpecTests.decode(SpecConfigFixture.json)
            let encoded = try JSONEncoder().encode(spec)
            #expect(try JSONDecoder().decode(OCIRuntimeSpec.self, from: encoded) == spec)
        }

        /// The re-encoded JSON has the same structure as the input: same keys, same values, no
        /// nulls added (absent fields stay absent).
        @Test func reencodedJSONMatchesTheInput() throws {
            let original = try JSONSerialization.jsonObject(with: Data(SpecConfigFixture.json.utf8))
            let encoded = try JSONEncoder().encode(try SpecTests.decode(SpecConfigFixture.json))
            let reencoded = try JSONSerialization.jsonObject(with: encoded)
            #expect((original as? NSDictionary) == (reencoded as? NSDictionary))
            #expect(!String(decoding: encoded, as: UTF8.self).contains("null"))
        }

        @Test func builtInSwiftEncodesWithSpecKeys() throws {
            let spec = OCIRuntimeSpec(
                process: .init(user: .init(uid: 1, gid: 2), args: ["true"], cwd: "/"),
                root: .init(path: "rootfs"),
                linux: .init(namespaces: [.init(type: "pid")], resources: .init(pids: .init(limit: 5))))
            let json = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
            #expect(json.contains(#""ociVersion":"1.2.0""#))
            #expect(json.contains(#""pids":{"limit":5}"#))
            #expect(try SpecTests.decode(json) == spec)
        }
    }

    @Suite("conversion") struct Conversion {
        @Test func seccompSectionCompiles() throws {
            let oci = try #require(try SpecTests.decode(SpecConfigFixture.json).linux?.seccomp)
            let profile = try SeccompProfile(oci: oci)
            #expect(profile.defaultAction == .errno(1))
            #expect(profile.architectures == [.x86_64, .x86, .x32])
            #expect(profile.rules.count == 8)
            #expect(profile.rules[5] == SeccompRule(names: ["clone3"], action: .errno(38)))
            let program = try profile.compile(cacheDirectory: nil)
            #expect(!program.isEmpty && program.count % 8 == 0)
        }

        @Test func capabilitiesConvert() throws {
            let oci = try #require(try SpecTests.decode(SpecConfigFixture.json).process?.capabilities)
            let caps = try ProcessCapabilities(oci: oci)
            #expect(caps.bounding == .containerDefault)
            #expect(caps.effective.names == ["CAP_NET_BIND_SERVICE"] && caps.permitted == caps.effective)
            #expect(caps.inheritable.isEmpty && caps.ambient.isEmpty)
        }
    }

    /// The runtime's executable, or nil when it isn't installed.
    static func installed(_ runtime: String) -> String? {
        ["/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/"]
            .map({ $0 + runtime }).first(where: FileManager.default.isExecutableFile(atPath:))
    }

    /// Runs `<runtime> spec` in a temporary directory and returns the config.json it wrote.
    static func generatedSpec(by runtime: String) throws -> String {
        let binary = try #require(installed(runtime), "\(runtime) is not installed")
        let directory = NSTemporaryDirectory() + "berth-spec-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["spec"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        try process.run()
        process.waitUntilExit()
        // An installed runtime that cannot write its default spec is a failure, not a skip.
        try #require(process.terminationStatus == 0, "\(runtime) spec exited with \(process.terminationStatus)")
        return try String(contentsOfFile: directory + "/config.json", encoding: .utf8)
    }
}
