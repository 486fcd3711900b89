#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import Runtime

/// Device lists as data: `--device` parsing, the v1 lines, the v2 program, and the drivers
/// against fixture hierarchies.
@Suite("Device lists") struct DeviceRuleTests {
    @Test func theDefaultListIsDockersInV1Lines() {
        #expect(DeviceRule.containerDefault.map(\.description) == [
            "deny a", "allow c *:* m", "allow b *:* m", "allow c 1:3 rwm", "allow c 1:5 rwm", "allow c 1:7 rwm",
            "allow c 1:8 rwm", "allow c 1:9 rwm", "allow c 5:0 rwm", "allow c 5:1 rwm", "allow c 5:2 rwm", "allow c 136:* rwm",
        ])
        #expect(!DeviceRule.containerDefault.allowsEveryDevice)
        #expect(DeviceRule.allowAll.allowsEveryDevice)
        #expect(!(DeviceRule.allowAll + [DeviceRule(allow: false, kind: .char, major: 1, minor: 3)]).allowsEveryDevice)
    }

    @Test func aDeviceFlagNamesTheHostNodeAndWhatTheContainerMayDo() throws {
        let full = try DeviceNode.parse("/dev/null")
        #expect(full == DeviceNode(path: "/dev/null", kind: .char, major: 1, minor: 3, fileMode: 0o666, access: .all))
        let renamed = try DeviceNode.parse("/dev/null:/dev/mynull:r")
        #expect(renamed.path == "/dev/mynull" && renamed.access == .read)
        #expect(renamed.rule == DeviceRule(allow: true, kind: .char, major: 1, minor: 3, access: .read))
        #expect(try DeviceNode.parse("/dev/zero:rw").access == [.read, .write])
    }

    @Test(arguments: [
        ("/dev/berth-no-such-device", "cannot stat /dev/berth-no-such-device"),
        ("/etc/hostname", "is not a device node"),
        ("/dev", "is not a device node"),
        ("/dev/null:rwx", "are not letters of rwm"),
        ("/dev/null:/dev/a:/dev/b", "use /dev/HOST[:/dev/CONTAINER][:rwm]"),
        ("dev/null", "the host path must be absolute"),
        ("/dev/null:/", "must be absolute and not the root"),
        ("/dev/null:/dev/../etc/x", "must not contain"),
    ])
    func aBadDeviceFlagIsOneSentence(text: String, expected: String) throws {
        let error = #expect(throws: RuntimeError.self) { try DeviceNode.parse(text) }
        #expect(error?.code == .invalidArgument)
        let sentence = error.map { "\($0)" } ?? ""
        #expect(sentence.contains("--device \"\(text)\"") && sentence.contains(expected), "\(sentence)")
        #expect(!sentence.contains("\n"))
    }

    @Test func aGivenDeviceIsPlannedAsANodeOfItsTypeAfterTheDefaultOnes() throws {
        var config = ContainerConfig(id: String(repeating: "a", count: 64), rootfs: "/r", args: ["sh"], env: [])
        config.devices = [DeviceNode(path: "/dev/disk0", kind: .block, major: 8, minor: 0, fileMode: 0o640)]
        let plan = MountPlan.operations(for: config, cgroupMode: .legacy, consolePath: nil)
        let disk = try #require(plan.firstIndex { $0.target == "/dev/disk0" })
        #expect(plan[disk].description == "mknod /dev/disk0 b 8 0 mode 640")
        let tty = try #require(plan.firstIndex { $0.target == "/dev/tty" })
        let pts = try #require(plan.firstIndex { $0.target == "/dev/pts" })
        #expect(tty < disk && disk < pts)
    }

    @Test func theProgramAllowingEverythingReturnsOneAtOnce() {
        let program = DeviceProgram.instructions(for: DeviceRule.allowAll)
        #expect(program.count == 11)
        #expect(program[9] == BPFInstruction(DeviceProgram.moveImmediate, dst: 0, immediate: 1))
        #expect(program[10] == BPFInstruction(DeviceProgram.exit))
    }

    static let jumps = [DeviceProgram.jumpIfNotEqual, DeviceProgram.jumpIfEqual, DeviceProgram.jumpIfEqual32]

    @Test(arguments: [DeviceRule.containerDefault,
                      DeviceRule.containerDefault + [DeviceRule(allow: true, kind: .block, major: 8, minor: 0, access: .read),
                                                     DeviceRule(allow: false, kind: .char, major: 1, minor: 3, access: .write)],
                      [DeviceRule(allow: true, kind: .char, major: 1, minor: 3)],
                      [DeviceRule(allow: false, kind: .char)],
                      DeviceRule.allowAll + [DeviceRule(allow: false, kind: .block, major: 4095, minor: 1)]])
    func everyJumpLandsInsideTheProgramWhichEndsInAnExit(rules: [DeviceRule]) {
        let program = DeviceProgram.instructions(for: rules)
        for (index, instruction) in program.enumerated() where Self.jumps.contains(instruction.code) {
            let target = index + 1 + Int(instruction.offset)
            #expect(instruction.offset >= 0 && target < program.count)
        }
        #expect(program.last == BPFInstruction(DeviceProgram.exit))
        #expect(program.allSatisfy { $0.bytes.count == 8 })
    }

    @Test func theDefaultListIsOneCompareADevice() throws {
        let program = DeviceProgram.instructions(for: DeviceRule.containerDefault)
        // null, zero, full, random, urandom, tty, console and ptmx: one 32-bit compare of
        // major << 20 | minor each, jumping to the allow verdict at the end.
        let allowBlock = program.count - 2
        let compares = program.indices.filter { program[$0].code == DeviceProgram.jumpIfEqual32 }
        let devices: [(UInt32, UInt32)] = [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2)]
        let keys: [Int32] = devices.map { Int32($0.0 << 20 | $0.1) }
        #expect(compares.map { program[$0].immediate } == keys)
        for index in compares { #expect(index + 1 + Int(program[index].offset) == allowBlock) }
        // pts: any minor of major 136.
        let pts = try #require(program.indices.first { program[$0].code == DeviceProgram.jumpIfEqual && program[$0].immediate == 136 })
        #expect(program[pts].registers == DeviceProgram.major && pts + 1 + Int(program[pts].offset) == allowBlock)
        // Nothing matched: the deny-all rule's verdict, then the allow block.
        #expect(Array(program.suffix(4)) == [BPFInstruction(DeviceProgram.moveImmediate, dst: 0, immediate: 0),
                                             BPFInstruction(DeviceProgram.exit),
                                             BPFInstruction(DeviceProgram.moveImmediate, dst: 0, immediate: 1),
                                             BPFInstruction(DeviceProgram.exit)])
        #expect(program.count == 34)
    }
}

extension CgroupTests {
    @Suite("device lists (fixture)") struct DeviceFixture {
        let path = CgroupPath.container(id: "abc")

        @Test func v1WritesTheListToTheDevicesHierarchy() throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory", "cpu", "pids", "devices"]))
            let driver = fs.v1Driver()
            _ = try driver.create(path, limits: ResourceLimits(devices: DeviceRule.containerDefault))
            // A fixture file keeps every write of one open back to back: one write per rule.
            #expect(fs.read("devices/berth/abc/devices.deny") == "a")
            #expect(fs.read("devices/berth/abc/devices.allow") == "c *:* mb *:* mc 1:3 rwmc 1:5 rwmc 1:7 rwmc 1:8 rwmc 1:9 rwm"
                + "c 5:0 rwmc 5:1 rwmc 5:2 rwmc 136:* rwm")
            try driver.attach(pid: 42, to: path)
            #expect(fs.read("devices/berth/abc/cgroup.procs") == "42")
            try driver.destroy(path)
            #expect(!fs.exists("devices/berth/abc"))
        }

        @Test func v1WithoutADevicesHierarchyRefusesToRunUnguarded() throws {
            let fs = try FakeCgroupFS(.legacy())
            let error = #expect(throws: RuntimeError.self) {
                _ = try fs.v1Driver().create(path, limits: ResourceLimits(devices: DeviceRule.containerDefault))
            }
            #expect(error?.code == .unsupported)
            #expect(error?.message.contains("--privileged") == true, "\(error?.message ?? "")")
            #expect(!fs.exists("memory/berth/abc"))
            // A privileged container needs no device cgroup.
            _ = try fs.v1Driver().create(path, limits: ResourceLimits(devices: DeviceRule.allowAll))
        }

        @Test func v2AttachesTheProgramToTheLeafBeforeReturningIt() throws {
            let fs = try FakeCgroupFS(.unified())
            let attached = Mutex<[(inode: UInt64, count: Int)]>([])
            var syscalls = fs.syscalls
            syscalls.attachDeviceProgram = { fd, program throws(DeviceProgramError) in
                var st = stat()
                _ = fstat(fd, &st)
                attached.withLock { $0.append((UInt64(st.st_ino), program.count)) }
            }
            let driver = CgroupV2Driver(root: fs.root, syscalls: syscalls, removalTimeout: .milliseconds(100))
            let placement = try driver.create(path, limits: ResourceLimits(devices: DeviceRule.containerDefault))
            let fd = try #require(placement.directoryFD)
            defer { close(fd) }
            var leaf = stat()
            #expect(stat(fs.root + "/berth/abc", &leaf) == 0)
            let calls = attached.withLock { $0 }
            #expect(calls.count == 1 && calls.first?.inode == UInt64(leaf.st_ino))
            #expect(calls.first?.count == DeviceProgram.instructions(for: DeviceRule.containerDefault).count)
            #expect(fs.read("berth/cgroup.subtree_control") == "+memory +pids")
        }

        @Test func v2RemovesTheLeafWhenTheProgramIsRefused() throws {
            let fs = try FakeCgroupFS(.unified())
            var syscalls = fs.syscalls
            syscalls.attachDeviceProgram = { _, _ throws(DeviceProgramError) in
                throw DeviceProgramError(errno: .permissionDenied, verifierLog: "")
            }
            let driver = CgroupV2Driver(root: fs.root, syscalls: syscalls, removalTimeout: .milliseconds(100))
            let error = #expect(throws: RuntimeError.self) {
                _ = try driver.create(path, limits: ResourceLimits(devices: DeviceRule.containerDefault))
            }
            #expect(error?.message.contains("cannot set the device list of cgroup") == true)
            #expect(!fs.exists("berth/abc"))
        }
    }
}
