#if canImport(Glibc)
import Glibc
#endif
import Testing
import Runtime

/// `ContainerConfig` as an OCI runtime spec and back: the launch description a container's
/// record keeps must give back exactly the config it was made from.
@Suite("ContainerConfig as an OCI spec") struct ContainerConfigOCITests {
    static func roundTrip(_ config: ContainerConfig) throws -> ContainerConfig {
        try ContainerConfig(id: config.id, oci: config.ociSpec)
    }

    static func expectSame(_ a: ContainerConfig, _ b: ContainerConfig) {
        #expect(a.id == b.id && a.rootfs == b.rootfs && a.readOnlyRootfs == b.readOnlyRootfs)
        #expect(a.args == b.args && a.env == b.env && a.workingDirectory == b.workingDirectory)
        #expect(a.user == b.user && a.hostname == b.hostname && a.terminal == b.terminal && a.domainname == b.domainname)
        #expect(a.rlimits == b.rlimits && a.namespaces == b.namespaces && a.bindMounts == b.bindMounts)
        #expect(a.tmpfsMounts == b.tmpfsMounts)
        #expect(a.maskedPaths == b.maskedPaths && a.readOnlyPaths == b.readOnlyPaths)
        #expect(a.resources == b.resources && a.capabilities == b.capabilities && a.devices == b.devices)
        #expect(a.noNewPrivileges == b.noNewPrivileges && a.seccomp == b.seccomp && a.useInit == b.useInit)
        #expect(a.joinedNamespaces == b.joinedNamespaces && a.timeNamespace == b.timeNamespace)
        #expect(a.executionDomain == b.executionDomain)
    }

    @Test func dockerDefaultsComeBackUnchanged() throws {
        var config = ContainerConfig(id: String(repeating: "a", count: 64), rootfs: "/var/lib/berth/containers/a",
                                     args: ["/bin/sh", "-c", "echo hi"], env: ["PATH=/bin", "A=b=c", "EMPTY="])
        config.capabilities = ProcessCapabilities.forUser(uid: 0, set: .containerDefault)
        config.seccomp = .default(for: .containerDefault)
        config.hostname = "web"
        Self.expectSame(config, try Self.roundTrip(config))
    }

    @Test func everySettingComesBackUnchanged() throws {
        var config = ContainerConfig(id: String(repeating: "b", count: 64), rootfs: "/srv/root", args: ["app"], env: [])
        config.readOnlyRootfs = true
        config.workingDirectory = "/srv"
        config.hostname = "web"
        config.domainname = "example.org"
        config.user = ProcessUser(uid: 1000, gid: 100, additionalGids: [5, 20])
        config.terminal = true
        config.rlimits = [ResourceLimit(resource: 7, soft: 1024, hard: 2048), ResourceLimit(resource: 6, soft: 10, hard: UInt64.max)]
        config.namespaces.remove(.network)
        config.bindMounts = [BindMount(source: "/data", destination: "/srv/data", readOnly: true),
                             BindMount(source: "/logs", destination: "/var/log/app", readOnly: false)]
        config.maskedPaths = ["/proc/kcore"]
        config.readOnlyPaths = []
        config.devices = [DeviceNode(path: "/dev/disk0", kind: .block, major: 8, minor: 0, fileMode: 0o640, access: .read),
                          DeviceNode(path: "/dev/fuse", kind: .char, major: 10, minor: 229, fileMode: 0o666)]
        config.resources = ResourceLimits(memoryBytes: 64 << 20, cpu: CPUBandwidth(cpus: 0.5), pidsLimit: 64,
                                          devices: DeviceRule.containerDefault + config.devices.map(\.rule), cpuShares: 512)
        config.capabilities = ProcessCapabilities.forUser(uid: 1000, set: .containerDefault)
        config.noNewPrivileges = false
        config.seccomp = SeccompProfile(defaultAction: .errno(38), architectures: [.x86],
                                        rules: [SeccompRule(names: ["read"], action: .allow,
                                                            conditions: [SeccompCondition(index: 0, op: .maskedEqual, value: 3, valueTwo: 1)]),
                                                SeccompRule(names: ["ptrace"], action: .trace(7)),
                                                SeccompRule(names: ["kexec_load"], action: .killProcess)])
        config.useInit = true
        config.hostname = nil
        Self.expectSame(config, try Self.roundTrip(config))
    }

    @Test func cpuSharesWithoutBandwidthStayShares() throws {
        var config = ContainerConfig(id: String(repeating: "s", count: 64), rootfs: "/r", args: ["sh"], env: [])
        config.resources.cpuShares = 2
        #expect(config.ociSpec.linux?.resources?.cpu == OCIRuntimeSpec.Linux.CPU(shares: 2))
        let back = try Self.roundTrip(config)
        #expect(back.resources.cpuShares == 2 && back.resources.cpu == nil)
        #expect(ResourceLimits.cpuWeight(shares: 2) == 1 && ResourceLimits.cpuWeight(shares: 1024) == 39)
        #expect(ResourceLimits.cpuWeight(shares: 262_144) == 10_000)
    }

    @Test func cpusetAndMemoryProtectionComeFromTheSpecAndBack() throws {
        var spec = ContainerConfig(id: "c", rootfs: "/r", args: ["sh"], env: []).ociSpec
        spec.linux?.resources?.memory = .init(reservation: 32 << 20, swappiness: 0)
        spec.linux?.resources?.cpu = .init(cpus: "0-1", mems: "0")
        let config = try ContainerConfig(id: "c", oci: spec)
        #expect(config.resources.memoryReservationBytes == 32 << 20 && config.resources.memorySwappiness == 0)
        #expect(config.resources.memoryBytes == nil)
        #expect(config.resources.cpuset == CPUSet(cpus: "0-1", mems: "0") && config.resources.cpu == nil)
        Self.expectSame(config, try Self.roundTrip(config))
        var onlyMems = spec
        onlyMems.linux?.resources?.cpu = .init(cpus: "", mems: "0")
        #expect(try ContainerConfig(id: "c", oci: onlyMems).resources.cpuset == CPUSet(mems: "0"))
        // Empty lists are unset, as runc reads them.
        onlyMems.linux?.resources?.cpu = .init(shares: 1024, cpus: "", mems: "")
        #expect(try ContainerConfig(id: "c", oci: onlyMems).resources.cpuset == nil)
    }

    @Test func privilegedAndUnconfinedStaySo() throws {
        var config = ContainerConfig(id: String(repeating: "c", count: 64), rootfs: "/r", args: ["sh"], env: [])
        config.capabilities = nil
        config.seccomp = nil
        config.resources.devices = DeviceRule.allowAll
        let back = try Self.roundTrip(config)
        #expect(back.capabilities == nil && back.seccomp == nil && back.resources.devices == DeviceRule.allowAll)
        #expect(config.ociSpec.linux?.seccomp == nil)
    }

    @Test(arguments: [
        (OCIRuntimeSpec(process: nil, root: .init(path: "/r")), "no process to run"),
        (OCIRuntimeSpec(process: .init(args: ["sh"]), root: nil), "no root filesystem"),
        (OCIRuntimeSpec(process: .init(args: ["sh"], rlimits: [.init(type: "RLIMIT_SPOONS", hard: 1, soft: 1)]), root: .init(path: "/r")),
         "unknown rlimit \"RLIMIT_SPOONS\""),
        (OCIRuntimeSpec(process: .init(args: ["sh"]), root: .init(path: "/r"), mounts: [.init(destination: "/n", source: "host:/x")]),
         "a mount at /n without a type"),
        (OCIRuntimeSpec(process: .init(args: ["sh"]), root: .init(path: "/r"), linux: .init(namespaces: [.init(type: "user")])),
         "user namespace"),
        (OCIRuntimeSpec(process: .init(args: ["sh"]), root: .init(path: "/r"),
                        linux: .init(namespaces: [.init(type: "spoon", path: "/proc/1/ns/spoon")])),
         "joins a spoon namespace at /proc/1/ns/spoon, a type berth does not know"),
        (OCIRuntimeSpec(process: .init(args: ["sh"]), root: .init(path: "/r"),
                        linux: .init(namespaces: [.init(type: "ipc"), .init(type: "ipc", path: "/proc/1/ns/ipc")])),
         "lists the ipc namespace twice"),
        (OCIRuntimeSpec(process: .init(args: ["sh"]), root: .init(path: "/r"),
                        linux: .init(namespaces: [.init(type: "time")], timeOffsets: ["realtime": .init(secs: 1)])),
         "timeOffsets for the clock \"realtime\""),
        (OCIRuntimeSpec(process: .init(args: ["sh"]), root: .init(path: "/r"),
                        linux: .init(namespaces: [.init(type: "time")], timeOffsets: ["boottime": .init(secs: 1, nanosecs: 1_000_000_000)])),
         "boottime.nanosecs 1000000000: it must be below 1000000000"),
    ])
    func whatBerthCannotDoIsRefused(spec: OCIRuntimeSpec, message: String) {
        let error = #expect(throws: RuntimeError.self) { try ContainerConfig(id: "x", oci: spec) }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    /// containerd and CNI make the network namespace and give its path: the process is cloned there.
    @Test func aNetworkNamespaceGivenByPathIsJoined() throws {
        let spec = OCIRuntimeSpec(process: .init(args: ["sh"]), root: .init(path: "/r"),
                                  linux: .init(namespaces: [.init(type: "pid"), .init(type: "network", path: "/run/netns/x")]))
        let config = try ContainerConfig(id: "x", oci: spec)
        #expect(config.networkNamespacePath == "/run/netns/x")
        #expect(!config.namespaces.contains(.network) && config.namespaces.contains(.pid))
    }

    /// A pod's container: the sandbox's namespaces by path, a time namespace of its own with
    /// offsets, a 32-bit personality; all of it comes back from the spec.
    @Test func joinedNamespacesTimeOffsetsAndPersonalityComeBack() throws {
        let spec = OCIRuntimeSpec(
            process: .init(args: ["sh"]), root: .init(path: "/r"),
            linux: .init(namespaces: [.init(type: "mount"), .init(type: "time"), .init(type: "ipc", path: "/proc/7/ns/ipc"),
                                      .init(type: "user", path: "/proc/7/ns/user"), .init(type: "pid", path: "/proc/7/ns/pid")],
                         personality: .init(domain: "LINUX32"),
                         timeOffsets: ["boottime": .init(secs: -5, nanosecs: 10), "monotonic": .init(secs: 86_400)]))
        let config = try ContainerConfig(id: "x", oci: spec)
        #expect(config.namespaces == [.mount])
        #expect(config.joinedNamespaces == [NamespaceJoin(kind: .ipc, path: "/proc/7/ns/ipc"),
                                            NamespaceJoin(kind: .user, path: "/proc/7/ns/user"),
                                            NamespaceJoin(kind: .pid, path: "/proc/7/ns/pid")])
        #expect(config.userNamespace == nil)
        #expect(config.timeNamespace == TimeNamespace(monotonic: .init(seconds: 86_400, nanoseconds: 0),
                                                      boottime: .init(seconds: -5, nanoseconds: 10)))
        #expect(config.executionDomain == .linux32)
        Self.expectSame(config, try Self.roundTrip(config))
    }

    @Test func aSpecWithoutADeviceListGetsTheDefaultAndItsOwnDevices() throws {
        var spec = ContainerConfig(id: String(repeating: "d", count: 64), rootfs: "/r", args: ["sh"], env: []).ociSpec
        spec.linux?.resources?.devices = nil
        spec.linux?.devices = [.init(type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o666)]
        let config = try ContainerConfig(id: String(repeating: "d", count: 64), oci: spec)
        #expect(config.resources.devices == DeviceRule.containerDefault + [DeviceRule(allow: true, kind: .char, major: 10, minor: 229)])
        #expect(config.devices == [DeviceNode(path: "/dev/fuse", kind: .char, major: 10, minor: 229, fileMode: 0o666)])
    }

    @Test(arguments: [
        OCIRuntimeSpec.Linux.DeviceRule(allow: true, type: "x"),
        OCIRuntimeSpec.Linux.DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rwx"),
        OCIRuntimeSpec.Linux.DeviceRule(allow: true, type: "c", major: 1 << 40),
        OCIRuntimeSpec.Linux.DeviceRule(allow: true, type: "c", major: 5000),
        OCIRuntimeSpec.Linux.DeviceRule(allow: true, type: "a", major: 8),
    ])
    func aDeviceRuleTheKernelWouldMisreadIsRefused(rule: OCIRuntimeSpec.Linux.DeviceRule) throws {
        var spec = ContainerConfig(id: String(repeating: "e", count: 64), rootfs: "/r", args: ["sh"], env: []).ociSpec
        spec.linux?.resources?.devices = [rule]
        let error = #expect(throws: RuntimeError.self) { try ContainerConfig(id: String(repeating: "e", count: 64), oci: spec) }
        #expect(error?.code == .invalidArgument)
    }
}
