@testable import Containers
import Foundation
import Testing

/// Copy-up from layer directories into a new volume, without mounting anything: overlay's rule
/// for which layer shows a path, modes and times kept, links copied and never followed.
@Suite("Volume copy-up") struct VolumeCopyUpTests {
    /// Two layers under `root`: the top one changes a file and adds a link that points out of
    /// the layers; the bottom one has the tree.
    static func layers(in root: String) throws -> [String] {
        let fm = FileManager.default
        let top = root + "/top", bottom = root + "/bottom"
        try fm.createDirectory(atPath: bottom + "/srv/app/sub", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: top + "/srv/app", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/outside", withIntermediateDirectories: true)
        try Data("outside\n".utf8).write(to: URL(fileURLWithPath: root + "/outside/secret"))
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: bottom + "/srv/app/config"))
        try Data("kept\n".utf8).write(to: URL(fileURLWithPath: bottom + "/srv/app/sub/data"))
        try Data("new\n".utf8).write(to: URL(fileURLWithPath: top + "/srv/app/config"))
        chmod(top + "/srv/app/config", 0o640)
        chmod(bottom + "/srv/app/sub", 0o750)
        chmod(top + "/srv/app", 0o705)
        try fm.createSymbolicLink(atPath: top + "/srv/app/escape", withDestinationPath: root + "/outside")
        link(bottom + "/srv/app/sub/data", bottom + "/srv/app/data-link")
        var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 5), timespec(tv_sec: 1_234_567_890, tv_nsec: 0)]
        utimensat(AT_FDCWD, bottom + "/srv/app/sub/data", &times, 0)
        return [top, bottom]
    }

    @Test func theMergedTreeIsCopiedWithModesAndTimes() throws {
        let root = try TemporaryRoot()
        let store = VolumeStore(stateRoot: root.path)
        let (volume, _) = try store.create("app")
        try VolumeCopyUp(layers: try Self.layers(in: root.path)).fill("app", in: store, from: "/srv/app")
        let data = volume.mountpoint
        #expect(try String(contentsOfFile: data + "/config", encoding: .utf8) == "new\n", "the top layer's file")
        #expect(try String(contentsOfFile: data + "/sub/data", encoding: .utf8) == "kept\n", "the bottom layer's")
        var st = stat()
        #expect(lstat(data + "/config", &st) == 0 && st.st_mode & 0o7777 == 0o640)
        #expect(lstat(data + "/sub", &st) == 0 && st.st_mode & 0o7777 == 0o750)
        #expect(lstat(data, &st) == 0 && st.st_mode & 0o7777 == 0o705, "the volume's root takes the directory's mode")
        #expect(lstat(data + "/sub/data", &st) == 0 && st.st_mtim.tv_sec == 1_234_567_890)
        #expect(lstat(data + "/escape", &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK, "a link stays a link")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: data + "/escape") == root.path + "/outside")
        var linked = stat()
        #expect(lstat(data + "/data-link", &linked) == 0 && lstat(data + "/sub/data", &st) == 0)
        #expect(linked.st_ino == st.st_ino && st.st_nlink == 2, "hard links stay one file")
        let names = try FileManager.default.contentsOfDirectory(atPath: root.path + "/volumes/app").sorted()
        #expect(names == ["_data", "volume.json"], "no copy directory stays: \(names)")
    }

    @Test func aVolumeThatHoldsSomethingIsLeftAlone() throws {
        let root = try TemporaryRoot()
        let store = VolumeStore(stateRoot: root.path)
        let (volume, _) = try store.create("busy")
        try Data("mine\n".utf8).write(to: URL(fileURLWithPath: volume.mountpoint + "/mine"))
        try VolumeCopyUp(layers: try Self.layers(in: root.path)).fill("busy", in: store, from: "/srv/app")
        #expect(try FileManager.default.contentsOfDirectory(atPath: volume.mountpoint) == ["mine"])
    }

    @Test(arguments: ["/srv/app/config", "/srv/app/escape", "/nowhere", "/srv/app/escape/secret"])
    func nothingIsCopiedWhereTheImageHasNoDirectory(path: String) throws {
        let root = try TemporaryRoot()
        let store = VolumeStore(stateRoot: root.path)
        let (volume, _) = try store.create("empty")
        try VolumeCopyUp(layers: try Self.layers(in: root.path)).fill("empty", in: store, from: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: volume.mountpoint).isEmpty)
    }
}
