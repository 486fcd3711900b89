import Foundation
import Runtime
import Testing
@testable import Containers

/// The subordinate id files `--userns=auto` reads and extends, and the record and launch spec
/// that keep a container's range; on temporary files, without root.
@Suite("User namespace allocation") struct UserNamespaceAllocationTests {
    static func file(_ text: String?) throws -> (TemporaryRoot, String) {
        let root = try TemporaryRoot()
        let path = root.path + "/subuid"
        if let text { try text.write(toFile: path, atomically: true, encoding: .utf8) }
        return (root, path)
    }

    @Test func theFlagTakesHostAutoOrNothing() throws {
        #expect(try UserNamespaceMode(flag: "") == .host)
        #expect(try UserNamespaceMode(flag: "host") == .host)
        #expect(try UserNamespaceMode(flag: "auto") == .auto)
        let error = #expect(throws: ContainerError.self) { try UserNamespaceMode(flag: "keep-id") }
        #expect(error?.message == "unknown --userns value \"keep-id\": use host or auto")
    }

    @Test func berthsRangeGoesAfterEveryOtherAlignedAndIsWrittenToTheFile() throws {
        let (root, path) = try Self.file("root:100000:65536\n# a comment\nalice:200000:70000")
        _ = root
        var file = try SubordinateIDFile.read(path)
        #expect(file.ranges(of: "berth").isEmpty)
        let added = try file.addRange(for: "berth", count: 65536 * 4)
        // After alice's 200000 + 70000 = 270000, on the next multiple of 65536.
        #expect(added == SubordinateIDFile.Entry(name: "berth", first: 327_680, count: 262_144))
        #expect(try String(contentsOfFile: path, encoding: .utf8)
                    == "root:100000:65536\n# a comment\nalice:200000:70000\nberth:327680:262144\n")
        #expect(try SubordinateIDFile.read(path).ranges(of: "berth") == [added])
    }

    @Test func aMissingFileHasNoRangesAndGetsBerthsAbove100000() throws {
        let (root, path) = try Self.file(nil)
        _ = root
        var file = try SubordinateIDFile.read(path)
        #expect(file.entries.isEmpty)
        #expect(try file.addRange(for: "berth", count: 65536).first == 131_072)
    }

    @Test(arguments: ["berth:1:2:3", "berth:x:65536", ":100000:65536", "berth:100000:0", "berth:4294967295:2"])
    func aMalformedLineIsNamedWithItsFileAndNumber(line: String) throws {
        let (root, path) = try Self.file("root:100000:65536\n\(line)\n")
        _ = root
        let error = #expect(throws: ContainerError.self) { try SubordinateIDFile.read(path) }
        #expect(error?.message == "\(path) line 2 is not \"name:first:count\" (\"\(line)\"): correct or remove it")
    }

    @Test func theRecordKeepsTheModeAndTheMapping() throws {
        var record = makeRecord()
        record.hostConfig.usernsMode = "auto"
        record.hostConfig.userNamespace = UserNamespace(hostID: 262_144, size: 65536)
        let back = try ContainerRecord(json: record.json)
        #expect(back.hostConfig.usernsMode == "auto")
        #expect(back.hostConfig.userNamespace == record.hostConfig.userNamespace)
        // A record without one (every record before --userns) reads as the host's.
        var host = makeRecord()
        host.hostConfig.usernsMode = ""
        let hostBack = try ContainerRecord(json: host.json)
        #expect(hostBack.hostConfig.userNamespace == nil && hostBack.hostConfig.usernsMode == "")
    }

    @Test func theLaunchSpecKeepsTheMappings() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let record = makeRecord()
        var config = ContainerConfig(id: record.id, rootfs: store.rootfsDirectory(of: record.id), args: ["/bin/sh"], env: [])
        config.userNamespace = UserNamespace(
            uidMappings: [IDMapping(containerID: 0, hostID: 327_680, size: 1000),
                          IDMapping(containerID: 1000, hostID: 400_000, size: 64536)],
            gidMappings: [IDMapping(containerID: 0, hostID: 327_680, size: 65536)])
        let created = try store.create(record, launch: config)
        #expect(try store.launchConfig(of: created).userNamespace == config.userNamespace)
        let other = makeRecord()
        config.id = other.id
        config.userNamespace = nil
        let plain = try store.create(other, launch: config)
        #expect(try store.launchConfig(of: plain).userNamespace == nil)
    }
}
