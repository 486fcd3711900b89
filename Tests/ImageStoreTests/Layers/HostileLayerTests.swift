import Foundation
import Testing
@testable import ImageStore

/// Tars built to escape the layer directory. Each is refused with an error that names the entry,
/// and afterwards nothing outside the layer directory has changed: the sentinel directory next to
/// it (which an escape would reach) still holds exactly its one file.
@Suite("Layer unpack: hostile tars")
struct HostileLayerTests {
    /// One hostile tar: python tarfile statements that add members to `t` (`OUT` is the sentinel
    /// directory's path), the entry the error must name, and the kind of refusal.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let members: String
        let entry: String
        let code: LayerError.Code
        var allowDevices = true
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "../ path", members: "file('ok', b'fine'); file('../evil', b'x')", entry: "../evil", code: .unsafePath),
        Case(name: "../ deeper", members: "file('a/../../evil', b'x')", entry: "a/../../evil", code: .unsafePath),
        Case(name: "absolute path", members: "file(OUT + '/abs-evil', b'x')", entry: "OUT/abs-evil", code: .unsafePath),
        Case(name: "symlink out, then a file through it",
             members: "symlink('link', OUT); file('link/evil', b'x')", entry: "link/evil", code: .unsafePath),
        Case(name: "symlink to .., then a file through it",
             members: "symlink('up', '..'); file('up/evil', b'x')", entry: "up/evil", code: .unsafePath),
        Case(name: "symlink to ../.., then a directory through it",
             members: "dir('d'); symlink('d/up', '../..'); dir('d/up/evil')", entry: "d/up/evil/", code: .unsafePath),
        Case(name: "directory replaced by a symlink, then a file below",
             members: "dir('d'); file('d/ok', b'1'); symlink('d', OUT); file('d/evil', b'x')", entry: "d/evil", code: .unsafePath),
        Case(name: "opaque marker through a symlink",
             members: "symlink('link', OUT); file('link/.wh..wh..opq', b'')", entry: "link/.wh..wh..opq", code: .unsafePath),
        Case(name: "whiteout through a symlink",
             members: "symlink('link', OUT); file('link/.wh.keep', b'')", entry: "link/.wh.keep", code: .unsafePath),
        Case(name: "whiteout of ..", members: "file('.wh...', b'')", entry: ".wh...", code: .unsafePath),
        Case(name: "hardlink to /etc/passwd", members: "hardlink('passwd', '/etc/passwd')", entry: "passwd", code: .unsafePath),
        Case(name: "hardlink to ../", members: "hardlink('keep', '../outside/keep')", entry: "keep", code: .unsafePath),
        Case(name: "hardlink through a symlink",
             members: "symlink('link', OUT); hardlink('keep', 'link/keep')", entry: "keep", code: .unsafePath),
        Case(name: "hardlink to a path not in the layer", members: "hardlink('x', 'missing/file')", entry: "x", code: .badArchive),
        Case(name: "character device with devices off",
             members: "file('ok', b'1'); device('mem', tarfile.CHRTYPE, 1, 1)", entry: "mem", code: .deviceNotAllowed, allowDevices: false),
        Case(name: "block device with devices off",
             members: "device('sda', tarfile.BLKTYPE, 8, 0)", entry: "sda", code: .deviceNotAllowed, allowDevices: false),
    ]

    @Test("refused, naming the entry, with nothing written outside", arguments: cases)
    func hostile(_ c: Case) throws {
        let base = try LayerFixtures.makeTemporaryDirectory("hostile")
        defer { LayerFixtures.remove(base) }
        let outside = base + "/outside"
        try LayerFixtures.sh("mkdir '\(base)/layer' '\(outside)' && echo keep > '\(outside)/keep'")
        try LayerFixtures.python("""
            import tarfile, io
            OUT = '\(outside)'
            t = tarfile.open('\(base)/hostile.tar', 'w', format=tarfile.PAX_FORMAT)
            def file(name, data):
                i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; t.addfile(i, io.BytesIO(data))
            def dir(name):
                i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
            def symlink(name, target):
                i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
            def hardlink(name, target):
                i = tarfile.TarInfo(name); i.type = tarfile.LNKTYPE; i.linkname = target; t.addfile(i)
            def device(name, kind, major, minor):
                i = tarfile.TarInfo(name); i.type = kind; i.devmajor = major; i.devminor = minor; i.mode = 0o600; t.addfile(i)
            \(c.members)
            t.close()
            """)
        let before = try LayerFixtures.listing(base)
        let keepBefore = LayerFixtures.lstatOf(outside + "/keep")

        let error = #expect(throws: LayerError.self) {
            try LayerFixtures.unpack(base + "/hostile.tar", into: base + "/layer",
                                     options: .init(allowDevices: c.allowDevices))
        }
        let expectedEntry = c.entry.replacingOccurrences(of: "OUT", with: outside)
        #expect(error?.entry == expectedEntry, "\(error.map { "\($0)" } ?? "no error")")
        #expect(error?.code == c.code, "\(error.map { "\($0)" } ?? "no error")")
        #expect(error?.description.contains(expectedEntry) == true)

        // Nothing outside the layer directory changed: same names, and the sentinel file is the
        // same inode with the same content and link count (no hardlink was made to it).
        let after = try LayerFixtures.listing(base).filter { !$0.hasPrefix("./layer/") }
        #expect(after == before.filter { !$0.hasPrefix("./layer/") })
        let keepAfter = LayerFixtures.lstatOf(outside + "/keep")
        #expect(keepAfter?.st_ino == keepBefore?.st_ino)
        #expect(keepAfter?.st_nlink == 1)
        #expect(try String(contentsOfFile: outside + "/keep", encoding: .utf8) == "keep\n")
        #expect(XattrTarget.path(Array(outside.utf8)).names() ?? [] == [])
        #expect(FileManager.default.fileExists(atPath: "/tmp/evil") == false)
        #expect(FileManager.default.fileExists(atPath: base + "/evil") == false)
    }

    @Test("a symlink pointing outside is stored, not followed: the layer keeps it as a link")
    func linkStored() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("linkstored")
        defer { LayerFixtures.remove(base) }
        try LayerFixtures.sh("mkdir '\(base)/layer'")
        try LayerFixtures.python("""
            import tarfile
            t = tarfile.open('\(base)/l.tar', 'w')
            for name, target in [('abs', '/etc/passwd'), ('up', '../../..'), ('dangling', 'nowhere')]:
                i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
            # a hardlink to an in-layer symlink links the symlink itself
            i = tarfile.TarInfo('hl'); i.type = tarfile.LNKTYPE; i.linkname = 'abs'; t.addfile(i)
            t.close()
            """)
        _ = try LayerFixtures.unpack(base + "/l.tar", into: base + "/layer")
        let fm = FileManager.default
        #expect(try fm.destinationOfSymbolicLink(atPath: base + "/layer/abs") == "/etc/passwd")
        #expect(try fm.destinationOfSymbolicLink(atPath: base + "/layer/up") == "../../..")
        #expect(try fm.destinationOfSymbolicLink(atPath: base + "/layer/hl") == "/etc/passwd")
        #expect(LayerFixtures.lstatOf(base + "/layer/hl")?.st_ino == LayerFixtures.lstatOf(base + "/layer/abs")?.st_ino)
    }
}
