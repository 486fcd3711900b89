import Runtime
import Testing

/// The user's binds and tmpfs mounts in the plan and in the launch spec: order (a parent first),
/// flags, propagation, and the OCI form that must give them back unchanged.
@Suite("User mounts") struct UserMountTests {
    static func config() -> ContainerConfig {
        var config = ContainerConfig(id: String(repeating: "c", count: 64), rootfs: "/srv/root", args: ["sh"], env: [])
        config.bindMounts = [
            BindMount(source: "/srv/logs", destination: "/data/logs", readOnly: false, propagation: .rshared),
            BindMount(source: "/srv/data", destination: "/data", readOnly: true),
        ]
        config.tmpfsMounts = [TmpfsMount(destination: "/data/tmp", flags: [.noSuid, .noDev, .noExec],
                                         options: ["size=16777216", "mode=1777"])]
        return config
    }

    @Test func aParentIsMountedBeforeWhatLiesBelowIt() {
        let ops = MountPlan.operations(for: Self.config(), cgroupMode: .unified, consolePath: nil)
        let user = ops.filter { $0.target.hasPrefix("/data") }
        #expect(user == [
            MountOperation(.bind(source: "/srv/data"), target: "/data", flags: [.readOnly]),
            MountOperation(.bind(source: "/srv/logs"), target: "/data/logs", flags: [.propagationShared, .recursive]),
            MountOperation(.mount(fstype: "tmpfs", source: "tmpfs", data: "size=16777216,mode=1777"), target: "/data/tmp",
                           flags: [.noSuid, .noDev, .noExec]),
        ])
        #expect(user[1].description == "bind /srv/logs on /data/logs (rshared)")
    }

    @Test func theLaunchSpecGivesThemBack() throws {
        let config = Self.config()
        let spec = config.ociSpec
        #expect(spec.mounts?.map(\.type) == ["bind", "bind", "tmpfs"])
        #expect(spec.mounts?.last?.options == ["nosuid", "nodev", "noexec", "size=16777216", "mode=1777"])
        let back = try ContainerConfig(id: config.id, oci: spec)
        #expect(back.bindMounts == config.bindMounts)
        #expect(back.tmpfsMounts == config.tmpfsMounts)
    }

    @Test(arguments: MountPropagation.allCases)
    func everyPropagationHasItsFlags(propagation: MountPropagation) {
        let flags = propagation.flags
        #expect(flags.contains(.recursive) == propagation.rawValue.hasPrefix("r"))
        let types: [MountFlags] = [.propagationPrivate, .propagationSlave, .propagationShared, .propagationUnbindable]
        #expect(types.filter { flags.contains($0) }.count == 1)
    }
}
