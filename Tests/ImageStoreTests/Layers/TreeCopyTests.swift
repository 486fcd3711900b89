import Foundation
import Testing
@testable import ImageStore

/// `berth cp`'s two halves: the merged view's tar of one path, and its unpacking under cp's
/// renaming rules. No root needed ("user.overlay." marks, caller-owned files).
@Suite("Tree copy")
struct TreeCopyTests {
    static let prefix = "user.overlay."

    /// The tar of `path` in the merged view of `layers`, as a file in `base`.
    func tarOf(_ path: [String], _ layers: [String], in base: String) throws -> String {
        let tar = base + "/\(path.joined(separator: "_")).tar"
        let fd = open(tar, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        try MergedTreeExport.write(layers: layers.map { MergedTreeExport.Layer(directory: $0, overlayXattrPrefix: Self.prefix) },
                                   at: path.map { Array($0.utf8) }, to: fd)
        return tar
    }

    func extract(_ tar: String, into directory: String, top: TreeExtraction.Top) throws {
        let input = open(tar, O_RDONLY)
        let target = open(directory, O_RDONLY | O_DIRECTORY)
        defer { close(input); close(target) }
        try TreeExtraction(top: top, owner: .caller, overlayXattrPrefix: Self.prefix).extract(from: input, into: target)
    }

    @Test("a path's tar holds the merged directory under its own name, whiteouts and opaque dirs applied")
    func pathTar() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("cp")
        defer { LayerFixtures.remove(base) }
        let lower = base + "/lower", upper = base + "/upper"
        try LayerFixtures.sh("""
            set -e
            mkdir -p '\(lower)/etc/sub' '\(upper)/etc'
            echo a > '\(lower)/etc/a'; echo b > '\(lower)/etc/sub/b'; echo gone > '\(lower)/etc/gone'
            echo new > '\(upper)/etc/new'
            """)
        try LayerFixtures.mknod(upper + "/etc/gone", S_IFCHR, major: 0, minor: 0, mode: 0)
        let tar = try tarOf(["etc"], [upper, lower], in: base)
        let names = try LayerFixtures.sh("tar -tf '\(tar)' | LC_ALL=C sort").split(separator: "\n").map(String.init)
        #expect(names == ["etc/", "etc/a", "etc/new", "etc/sub/", "etc/sub/b"])
        let file = try tarOf(["etc", "sub", "b"], [upper, lower], in: base)
        #expect(try LayerFixtures.sh("tar -tf '\(file)'") == "b\n")
        #expect(throws: LayerError.self) { try tarOf(["etc", "gone"], [upper, lower], in: base) }
        #expect(throws: LayerError.self) { try tarOf(["nothing", "here"], [upper, lower], in: base) }
    }

    @Test("unpacking renames the top, or leaves it out for the contents; a name overlay reserves is refused")
    func unpackRules() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("cp")
        defer { LayerFixtures.remove(base) }
        try LayerFixtures.sh("set -e; mkdir -p '\(base)/src/d/in' '\(base)/out'; echo x > '\(base)/src/d/in/x'")
        let tar = try tarOf(["d"], [base + "/src"], in: base)
        try extract(tar, into: base + "/out", top: .rename(Array("renamed".utf8)))
        #expect(try LayerFixtures.sh("cat '\(base)/out/renamed/in/x'") == "x\n")
        try extract(tar, into: base + "/out", top: .contents)
        #expect(try LayerFixtures.sh("cat '\(base)/out/in/x'") == "x\n")
        try extract(tar, into: base + "/out", top: .keep)
        #expect(try LayerFixtures.sh("cat '\(base)/out/d/in/x'") == "x\n")

        try LayerFixtures.sh("set -e; mkdir -p '\(base)/wh'; echo 1 > '\(base)/wh/.wh.secret'; tar -cf '\(base)/wh.tar' -C '\(base)' wh")
        #expect(throws: LayerError.self) { try extract(base + "/wh.tar", into: base + "/out", top: .keep) }
        #expect(!FileManager.default.fileExists(atPath: base + "/out/wh/secret"))
    }
}
