import Foundation
import Testing
@testable import Containers

/// `ContainerStore.changeName` (berth rename): the name link and the record move together, and
/// a rename cut short leaves a link the next tidy-up removes.
@Suite("container rename") struct ContainerRenameTests {
    private func links(_ store: ContainerStore) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store.namesDirectory)) ?? []).sorted()
    }

    @Test func theRecordAndTheNameLinkMoveTogether() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let created = try store.create(makeRecord(name: "before"))
        let renamed = try store.changeName(of: created, to: "after")
        #expect(renamed.name == "after")
        #expect(try store.load(id: created.id).name == "after")
        #expect(try store.find("after").id == created.id)
        #expect(throws: ContainerError.self) { try store.find("before") }
        #expect(links(store) == ["after"])
        // The old name is free again.
        #expect(try store.create(makeRecord(name: "before")).name == "before")
    }

    @Test func aTakenInvalidOrSameNameChangesNothing() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let first = try store.create(makeRecord(name: "first"))
        _ = try store.create(makeRecord(name: "second"))
        for (name, code) in [("second", ContainerError.Code.conflict), ("a/b", .invalidArgument), ("first", .invalidArgument),
                             (String(repeating: "a", count: 64), .invalidArgument)] {
            let error = try #require(throws: ContainerError.self) { try store.changeName(of: first, to: name) }
            #expect(error.code == code, "\(name): \(error)")
        }
        #expect(try store.load(id: first.id).name == "first")
        #expect(links(store) == ["first", "second"])
    }

    /// A crash between the new link and the record: the link names a container whose record
    /// has another name. Lookups ignore it, and it goes once it is a minute old.
    @Test func aLinkLeftByARenameCutShortIsRemoved() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let created = try store.create(makeRecord(name: "kept"))
        let stray = store.namesDirectory + "/stray"
        #expect(symlink(created.id, stray) == 0)
        #expect(throws: ContainerError.self) { try store.find("stray") }
        store.removeIncomplete()
        #expect(links(store) == ["kept", "stray"], "a young link may be a rename in progress")
        var old = [timespec(tv_sec: time(nil) - 120, tv_nsec: 0), timespec(tv_sec: time(nil) - 120, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, stray, &old, AT_SYMLINK_NOFOLLOW) == 0)
        store.removeIncomplete()
        #expect(links(store) == ["kept"])
        #expect(try store.find("kept").id == created.id)
    }
}
