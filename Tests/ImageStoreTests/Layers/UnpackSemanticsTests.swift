import Foundation
import Testing
@testable import ImageStore

/// How the unpacker turns OCI entries into an overlay lowerdir: whiteouts, opaque directories,
/// entries listed twice, implicit parents.
@Suite("Layer unpack: OCI to overlay", .enabled(if: LayerFixtures.isRoot, "needs root: whiteout devices, trusted.* xattrs, chown"))
struct UnpackSemanticsTests {
    /// Builds a tar from python tarfile statements (helpers `file`, `dir`, `symlink`, `hardlink`,
    /// `device`, as in HostileLayerTests) and unpacks it into `<base>/layer`.
    func unpack(_ members: String, options: LayerUnpacker.Options = .init()) throws -> (String, LayerUnpackResult) {
        let base = try LayerFixtures.makeTemporaryDirectory("semantics")
        try LayerFixtures.sh("mkdir '\(base)/layer'")
        try LayerFixtures.python("""
            import tarfile, io
            t = tarfile.open('\(base)/l.tar', 'w', format=tarfile.PAX_FORMAT)
            def file(name, data, mode=0o644, uid=0, gid=0, xattrs=None, mtime=1600000000):
                i = tarfile.TarInfo(name); i.size = len(data); i.mode = mode; i.uid = uid; i.gid = gid; i.mtime = mtime
                if xattrs: i.pax_headers = {'SCHILY.xattr.' + k: v for k, v in xattrs.items()}
                t.addfile(i, io.BytesIO(data))
            def dir(name, mode=0o755, mtime=1600000000):
                i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; i.mode = mode; i.mtime = mtime; t.addfile(i)
            def symlink(name, target):
                i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
            def hardlink(name, target):
                i = tarfile.TarInfo(name); i.type = tarfile.LNKTYPE; i.linkname = target; t.addfile(i)
            def device(name, kind, major, minor):
                i = tarfile.TarInfo(name); i.type = kind; i.devmajor = major; i.devminor = minor; i.mode = 0o600; t.addfile(i)
            \(members)
            t.close()
            """)
        let result = try LayerFixtures.unpack(base + "/l.tar", into: base + "/layer", options: options)
        return (base, result)
    }

    func isWhiteout(_ path: String) -> Bool {
        guard let st = LayerFixtures.lstatOf(path) else { return false }
        return LayerFS.fileType(st.st_mode) == S_IFCHR && st.st_rdev == 0
    }

    func isOpaque(_ path: String) -> Bool {
        XattrTarget.path(Array(path.utf8)).value("trusted.overlay.opaque") == Array("y".utf8)
    }

    @Test(".wh.<name> becomes a 0/0 device, .wh..wh..opq an opaque xattr, AUFS metadata is skipped")
    func whiteouts() throws {
        let (base, result) = try unpack("""
            dir('etc'); file('etc/.wh.motd', b''); dir('var'); dir('var/cache'); file('var/cache/.wh..wh..opq', b'')
            file('var/cache/new', b'n'); file('.wh..wh.plnk', b''); dir('.wh..wh.aufs'); file('.wh..wh.aufs/inner', b''); file('gone/.wh.deep', b'')
            """)
        defer { LayerFixtures.remove(base) }
        let layer = base + "/layer"
        #expect(isWhiteout(layer + "/etc/motd"))
        #expect(isOpaque(layer + "/var/cache"))
        #expect(!isOpaque(layer + "/var"))
        #expect(isWhiteout(layer + "/gone/deep"), "a whiteout's missing parent is created")
        #expect(try LayerFixtures.listing(layer) == ["./etc", "./etc/motd", "./gone", "./gone/deep", "./var", "./var/cache", "./var/cache/new"])
        #expect(result.entries == 10)
    }

    @Test("a whiteout never removes what the same layer made; over a directory it makes it opaque")
    func whiteoutOfOwnEntries() throws {
        let (base, _) = try unpack("""
            file('kept', b'1'); file('.wh.kept', b''); dir('d'); file('d/x', b'x'); file('.wh.d', b'')
            file('.wh.later', b''); file('later', b'2'); file('.wh.newdir', b''); dir('newdir'); file('newdir/y', b'y')
            file('.wh.implicit', b''); file('implicit/z', b'z')
            """)
        defer { LayerFixtures.remove(base) }
        let layer = base + "/layer"
        #expect(try String(contentsOfFile: layer + "/kept", encoding: .utf8) == "1")
        #expect(isOpaque(layer + "/d") && FileManager.default.fileExists(atPath: layer + "/d/x"))
        #expect(try String(contentsOfFile: layer + "/later", encoding: .utf8) == "2")
        #expect(isOpaque(layer + "/newdir"), "a directory made over a whiteout hides the lower one")
        #expect(isOpaque(layer + "/implicit"), "so does an implicit parent made over a whiteout")
        #expect(FileManager.default.fileExists(atPath: layer + "/implicit/z"))
    }

    @Test("entries listed twice: the later wins, a directory listed again keeps its content")
    func duplicates() throws {
        let (base, _) = try unpack("""
            file('f', b'first'); file('f', b'second'); dir('d', mode=0o700); file('d/x', b'x'); dir('d', mode=0o750, mtime=1234567890)
            dir('was-dir'); file('was-dir/inner', b'i'); file('was-dir', b'now a file'); symlink('was-file', 'f'); file('was-file', b'plain')
            """)
        defer { LayerFixtures.remove(base) }
        let layer = base + "/layer"
        #expect(try String(contentsOfFile: layer + "/f", encoding: .utf8) == "second")
        let d = try #require(LayerFixtures.lstatOf(layer + "/d"))
        #expect(d.st_mode & 0o7777 == 0o750)
        #expect(d.st_mtim.tv_sec == 1_234_567_890, "directory times are set after their content")
        #expect(FileManager.default.fileExists(atPath: layer + "/d/x"))
        #expect(try String(contentsOfFile: layer + "/was-dir", encoding: .utf8) == "now a file")
        #expect(LayerFixtures.lstatOf(layer + "/was-file").map { LayerFS.fileType($0.st_mode) } == S_IFREG)
    }

    @Test("overlay's private xattrs in a tar are dropped; others are set")
    func overlayXattrsDropped() throws {
        let (base, _) = try unpack("""
            file('f', b'x', xattrs={'trusted.overlay.redirect': '/etc/shadow', 'trusted.overlay.metacopy': '',
                                    'user.overlay.opaque': 'y', 'user.kept': 'yes'})
            """)
        defer { LayerFixtures.remove(base) }
        let names = XattrTarget.path(Array((base + "/layer/f").utf8)).names() ?? []
        #expect(names == ["user.kept"])
    }

    @Test("ownership: kept as root by default, the caller's when asked not to")
    func ownership() throws {
        let members = "file('owned', b'x', uid=1000, gid=2000, mode=0o4755)"
        let (base, _) = try unpack(members)
        defer { LayerFixtures.remove(base) }
        let kept = try #require(LayerFixtures.lstatOf(base + "/layer/owned"))
        #expect(kept.st_uid == 1000 && kept.st_gid == 2000)
        #expect(kept.st_mode & 0o7777 == 0o4755, "setuid survives the chown")
        let (other, _) = try unpack(members, options: .init(preserveOwnership: false))
        defer { LayerFixtures.remove(other) }
        let mine = try #require(LayerFixtures.lstatOf(other + "/layer/owned"))
        #expect(mine.st_uid == getuid() && mine.st_gid == getgid())
    }

    @Test("devices are made when allowed; a 0/0 device is allowed even when devices are not")
    func devices() throws {
        let (base, _) = try unpack("device('null', tarfile.CHRTYPE, 1, 3); device('fifo', tarfile.FIFOTYPE, 0, 0)")
        defer { LayerFixtures.remove(base) }
        let null = try #require(LayerFixtures.lstatOf(base + "/layer/null"))
        #expect(LayerFS.fileType(null.st_mode) == S_IFCHR && LayerFS.major(null.st_rdev) == 1 && LayerFS.minor(null.st_rdev) == 3)
        #expect(LayerFixtures.lstatOf(base + "/layer/fifo").map { LayerFS.fileType($0.st_mode) } == S_IFIFO)
        let (other, _) = try unpack("device('wh', tarfile.CHRTYPE, 0, 0); device('fifo', tarfile.FIFOTYPE, 0, 0)",
                                    options: .init(allowDevices: false))
        defer { LayerFixtures.remove(other) }
        #expect(isWhiteout(other + "/layer/wh"))
    }

    @Test("hardlinks: to earlier entries, over a directory, to a symlink")
    func hardlinks() throws {
        let (base, _) = try unpack("""
            dir('t'); file('t/a', b'shared'); dir('d'); file('d/x', b'x'); hardlink('h', 't/a')
            hardlink('d', 't/a'); symlink('s', 't/a'); hardlink('hs', 's'); hardlink('h', 't/a')
            """)
        defer { LayerFixtures.remove(base) }
        let layer = base + "/layer"
        let a = try #require(LayerFixtures.lstatOf(layer + "/t/a"))
        #expect(a.st_nlink == 3)
        #expect(LayerFixtures.lstatOf(layer + "/h")?.st_ino == a.st_ino)
        #expect(LayerFixtures.lstatOf(layer + "/d")?.st_ino == a.st_ino, "a hardlink replaces a directory of this layer")
        #expect(LayerFixtures.lstatOf(layer + "/hs")?.st_ino == LayerFixtures.lstatOf(layer + "/s")?.st_ino)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: layer + "/hs") == "t/a")
    }
}
