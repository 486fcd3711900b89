import Containers
import Foundation
import JSON
import Runtime
import Testing

/// The launch spec written at creation and read by every later start, and records of other
/// formats.
@Suite("launch spec") struct LaunchSpecTests {
    @Test func theSpecWrittenAtCreationIsTheOneReadBack() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let record = makeRecord()
        var config = ContainerConfig(id: record.id, rootfs: store.rootfsDirectory(of: record.id),
                                     args: ["/bin/sh", "-c", "echo $A"], env: ["A=1", "PATH=/bin"])
        config.user = ProcessUser(uid: 65534, gid: 65534)
        config.capabilities = ProcessCapabilities.forUser(uid: 65534, set: .containerDefault)
        config.seccomp = .default(for: .containerDefault)
        config.devices = [DeviceNode(path: "/dev/disk0", kind: .block, major: 8, minor: 0, fileMode: 0o640, access: [.read, .mknod])]
        config.resources = ResourceLimits(memoryBytes: 1 << 26, cpu: CPUBandwidth(cpus: 0.5), pidsLimit: 10,
                                          devices: DeviceRule.containerDefault + config.devices.map(\.rule), cpuShares: 512)
        let created = try store.create(record, launch: config)
        let back = try store.launchConfig(of: created)
        #expect(back.devices == config.devices)
        #expect(back.args == config.args && back.env == config.env && back.user == config.user)
        #expect(back.capabilities == config.capabilities && back.seccomp == config.seccomp)
        #expect(back.resources == config.resources && back.rootfs == config.rootfs)
        // An OCI runtime spec, as a bundle's config.json would hold it.
        let json = try JSON.parse(try Array(Data(contentsOf: URL(fileURLWithPath: store.launchSpecPath(of: record.id)))))
        #expect(json["ociVersion"]?.string == "1.2.0")
        #expect(json["process"]?["args"]?.array?.count == 3)
    }

    @Test func aRecordOfTheFirstFormatIsListedButNotStarted() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let record = try store.create(makeRecord(name: "old"))
        // A record as berth wrote it before launch specs: no version, the run command line.
        let path = store.directory(of: record.id) + "/config.json"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: ",\"BerthRecordVersion\":2", with: ",\"RunArguments\":[\"busybox\",\"sh\"]")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let old = try store.find("old")
        #expect(old.formatVersion == 1)
        let error = #expect(throws: ContainerError.self) { try store.launchConfig(of: old) }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("created by an older berth") == true)
        #expect(error?.message.contains("berth rm old") == true)
        try store.remove(old)
    }

    @Test func aRecordOfANewerFormatIsRefusedNotMisread() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let record = try store.create(makeRecord())
        let path = store.directory(of: record.id) + "/config.json"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"BerthRecordVersion\":2", with: "\"BerthRecordVersion\":3")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: ContainerError.self) { try store.load(id: record.id) }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("written by a newer berth") == true, "\(error?.message ?? "")")
    }
}

@Suite("launch spec, damaged") struct DamagedLaunchSpecTests {
    @Test(arguments: [
        (#"{"ociVersion":"1.2.0","process":{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0}},"root":{"path":"/"},"surprise":1}"#,
         "surprise is not a member berth writes"),
        (#"{"ociVersion":"1.2.0","process":{"args":["sh"],"cwd":"/","user":{"uid":-1,"gid":0}},"root":{"path":"/"}}"#,
         "process.user.uid is not a whole number in range"),
        (#"{"ociVersion":"1.2.0","process":{"args":["sh"],"cwd":"/"},"root":{"path":"/"}}"#, "process.user is missing"),
        (#"{"ociVersion":"1.2.0","process":{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0}},"root":{"path":"/"},"#
            + #""linux":{"seccomp":{"defaultAction":"SCMP_ACT_NOPE","syscalls":[]}}}"#, "unknown action \"SCMP_ACT_NOPE\""),
        ("{not json", "launch spec of container"),
    ])
    func isRefusedWithWhatIsWrong(text: String, message: String) throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let record = try store.create(makeRecord(name: "damaged"))
        try text.write(toFile: store.launchSpecPath(of: record.id), atomically: true, encoding: .utf8)
        let error = #expect(throws: ContainerError.self) { try store.launchConfig(of: record) }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }
}
