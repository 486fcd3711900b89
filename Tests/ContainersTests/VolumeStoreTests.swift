@testable import Containers
import Foundation
import Testing

/// The volume store on a temporary state root: creation (atomic, also when racing), lookup,
/// removal, and what interrupted operations leave.
@Suite("Volume store") struct VolumeStoreTests {
    @Test func createFindListAndRemove() throws {
        let root = try TemporaryRoot()
        let store = VolumeStore(stateRoot: root.path)
        #expect(store.all().isEmpty)
        let (made, isNew) = try store.create("data", labels: [("team", "db")])
        #expect(isNew && made.name == "data" && made.driver == "local")
        #expect(made.mountpoint == root.path + "/volumes/data/_data")
        #expect(FileManager.default.fileExists(atPath: made.mountpoint))
        let found = try store.find("data")
        #expect(found == made)
        #expect(found.labels.map(\.0) == ["team"] && found.labels.map(\.1) == ["db"])
        #expect(!found.isAnonymous)
        let (again, secondIsNew) = try store.create("data", labels: [("other", "x")])
        #expect(!secondIsNew && again == made, "an existing volume is used as it is")
        #expect(store.isEmpty("data"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: made.mountpoint + "/f"))
        #expect(!store.isEmpty("data"))
        #expect(store.diskUsage(of: "data") > 0)

        let (anonymous, _) = try store.create(nil, labels: [(VolumeStore.anonymousLabel, "")])
        #expect(anonymous.isAnonymous && anonymous.name.utf8.count == 64)
        #expect(store.all().map(\.name) == [anonymous.name, "data"].sorted())

        try store.remove("data")
        #expect(!FileManager.default.fileExists(atPath: root.path + "/volumes/data"))
        let error = #expect(throws: ContainerError.self) { try store.remove("data") }
        #expect(error?.code == .notFound && error?.message == "no such volume: data")
        #expect((try FileManager.default.contentsOfDirectory(atPath: root.path + "/volumes")).filter { $0 != ".lock" }
            == [anonymous.name])
    }

    @Test func badNamesAreRefusedAndNothingIsMade() throws {
        let root = try TemporaryRoot()
        let store = VolumeStore(stateRoot: root.path)
        for name in ["a", "../x", "x/y", ".hidden"] {
            let error = #expect(throws: ContainerError.self) { _ = try store.create(name) }
            #expect(error?.code == .invalidArgument, "\(name)")
            #expect((try? store.find(name)) == nil)
        }
        #expect(!FileManager.default.fileExists(atPath: root.path + "/volumes"))
    }

    @Test func racingCreationsEndWithOneVolume() async throws {
        let root = try TemporaryRoot()
        let store = VolumeStore(stateRoot: root.path)
        let results = await withTaskGroup(of: (String, Bool)?.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    guard let (volume, isNew) = try? store.create("shared") else { return nil }
                    return (volume.createdAt, isNew)
                }
            }
            var all: [(String, Bool)?] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.allSatisfy { $0 != nil }, "every creation succeeds")
        #expect(Set(results.compactMap { $0?.0 }).count == 1, "all see the one volume")
        #expect(results.filter { $0?.1 == true }.count == 1, "exactly one made it")
        let left = try FileManager.default.contentsOfDirectory(atPath: root.path + "/volumes").filter { $0 != ".lock" }
        #expect(left == ["shared"], "no temporary directory stays: \(left)")
    }

    @Test func interruptedOperationsAreRemoved() throws {
        let root = try TemporaryRoot()
        let store = VolumeStore(stateRoot: root.path)
        _ = try store.create("kept")
        // A removal cut short, a creation whose maker died (no such pid), one still going (ours).
        let leftovers = [".removing-1-abc", ".creating-2147483646-abc", ".creating-\(getpid())-abc"]
        for name in leftovers {
            try FileManager.default.createDirectory(atPath: root.path + "/volumes/" + name + "/_data",
                                                    withIntermediateDirectories: true)
        }
        #expect(store.all().map(\.name) == ["kept"], "dot-directories are never volumes")
        store.removeIncomplete()
        let left = try FileManager.default.contentsOfDirectory(atPath: root.path + "/volumes").sorted()
        #expect(left == [".creating-\(getpid())-abc", "kept"])
    }

    @Test func theInspectDocumentHasDockersKeys() throws {
        let root = try TemporaryRoot()
        let (volume, _) = try VolumeStore(stateRoot: root.path).create("docs", labels: [("a", "1")])
        let keys = volume.json.object?.map(\.key) ?? []
        #expect(keys == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"])
        #expect(volume.json["Scope"]?.string == "local" && volume.json["Labels"]?["a"]?.string == "1")
    }
}
