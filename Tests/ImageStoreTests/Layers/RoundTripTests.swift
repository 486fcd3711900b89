import Foundation
import Testing
@testable import ImageStore

/// Upper dir → pack → unpack into a fresh dir → the same tree.
@Suite("Layer pack and unpack round trip", .enabled(if: LayerFixtures.isRoot, "needs root: chown, mknod, trusted.* xattrs"))
struct RoundTripTests {
    @Test("every kind of change survives, whiteouts and opaque dirs included", arguments: [LayerCompression.gzip, .none, .zstd])
    func roundTrip(compression: LayerCompression) throws {
        let base = try LayerFixtures.makeTemporaryDirectory("roundtrip")
        defer { LayerFixtures.remove(base) }
        let upper = base + "/upper", out = base + "/out"
        try LayerFixtures.sh("mkdir '\(upper)' '\(out)'")
        try UpperDirFixture.build(at: upper)

        var tarBytes = Data()
        let packed = try LayerFixtures.pack(upper, to: base + "/layer", options: .init(compression: compression),
                                            observer: .init(uncompressed: { tarBytes.append(contentsOf: $0) }))
        let unpacked = try LayerFixtures.unpack(base + "/layer", into: out)

        #expect(unpacked.compression == compression)
        #expect(unpacked.uncompressedBytes == packed.uncompressedBytes)
        #expect(unpacked.storedBytes == packed.storedBytes)
        #expect(Int64(tarBytes.count) == packed.uncompressedBytes)
        #expect(unpacked.skippedXattrs.isEmpty)

        var expected = try TreeSnapshot.take(upper, .init(xattrFilter: { $0 != "trusted.overlay.origin" && $0 != "user.overlay.opaque" }))
        expected["/socket"] = nil
        let actual = try TreeSnapshot.take(out)
        let differences = TreeSnapshot.differences(expected, actual)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        #expect(actual["/etc"]?.xattrs["trusted.overlay.origin"] == nil)

        // The 100 MB sparse file stays sparse on disk and in the layer.
        let sparse = try #require(LayerFixtures.lstatOf(out + "/sparse"))
        #expect(sparse.st_size == 100 << 20)
        #expect(sparse.st_blocks * 512 < 1 << 20, "unpacked sparse file uses \(sparse.st_blocks * 512) bytes")
        #expect(packed.uncompressedBytes < 8 << 20, "the tar is \(packed.uncompressedBytes) bytes")
    }

    @Test("the tar says what OCI says: .wh. files, opaque markers, hardlinks, SCHILY xattrs, readable by GNU tar")
    func tarContents() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("tarcontents")
        defer { LayerFixtures.remove(base) }
        let upper = base + "/upper"
        try LayerFixtures.sh("mkdir '\(upper)'")
        try UpperDirFixture.build(at: upper)
        _ = try LayerFixtures.pack(upper, to: base + "/layer.tar", options: .init(compression: .none))

        let listing = try LayerFixtures.sh("""
            python3 -c "
            import tarfile
            for m in tarfile.open('\(base)/layer.tar'):
                kind = {tarfile.REGTYPE: 'f', tarfile.DIRTYPE: 'd', tarfile.SYMTYPE: 'l', tarfile.LNKTYPE: 'h',
                        tarfile.CHRTYPE: 'c', tarfile.BLKTYPE: 'b', tarfile.FIFOTYPE: 'p'}.get(m.type, '?')
                x = ','.join(k for k in sorted(m.pax_headers) if k.startswith('SCHILY.xattr.') or k.startswith('LIBARCHIVE.'))
                print(kind, m.name, m.linkname, oct(m.mode), m.uid, m.gid, x, sep='|')
            "
            """).split(separator: "\n").map(String.init)
        let names = listing.map { String($0.split(separator: "|", omittingEmptySubsequences: false)[1]) }

        #expect(listing.contains("f|etc/.wh.motd||0o600|0|0|"))
        #expect(listing.contains("f|.wh.renamed-old||0o600|0|0|"))
        #expect(!names.contains("etc/motd") && !names.contains("renamed-old"))
        // The opaque marker follows its directory at once, as Docker writes it.
        let opaque = try #require(names.firstIndex(of: "opaque-dir"))
        #expect(names[opaque + 1] == "opaque-dir/.wh..wh..opq")
        // Hardlinks: the first name in walk order carries the data, the others link to it.
        #expect(listing.contains("f|links/a||0o644|0|0|"))
        #expect(listing.contains("h|links/b|links/a|0o644|0|0|"))
        #expect(listing.contains("h|other/c|links/a|0o644|0|0|"))
        #expect(listing.contains("f|capable||0o755|0|0|SCHILY.xattr.security.capability"))
        #expect(listing.contains("f|xattr-file||0o644|0|0|SCHILY.xattr.user.binary,SCHILY.xattr.user.comment"))
        #expect(listing.contains("d|etc||0o755|0|0|"), "trusted.overlay.origin is left out")
        #expect(listing.contains("f|far-owner||0o644|123456|654321|"))
        #expect(listing.contains("f|modes/setuid||0o4755|0|0|"))
        #expect(listing.contains("d|modes/sticky||0o1777|0|0|"))
        #expect(listing.contains("c|dev/null||0o666|0|0|"))
        #expect(listing.contains("p|fifo||0o644|0|0|"))
        #expect(names.contains(UpperDirFixture.unicodeName))
        #expect(!names.contains("socket"))
        // Bytewise order, depth first, a whiteout where its name sorts: the same tree always gives
        // the same sequence.
        #expect(Array(names.prefix(8)) == ["abs-sym", "capable", "dangling", "dense", "dev", "dev/loop9", "dev/null", "empty"])
        let renamed = try #require(names.firstIndex(of: ".wh.renamed-old"))
        #expect(names[renamed - 1] == "renamed-new")
        // Other tar readers agree.
        try LayerFixtures.sh("tar -tvf '\(base)/layer.tar' > /dev/null")
        try LayerFixtures.sh("mkdir '\(base)/gnu' && tar --xattrs --xattrs-include='*' -C '\(base)/gnu' -xpf '\(base)/layer.tar'")
        try LayerFixtures.sh("cmp '\(upper)/sparse' '\(base)/gnu/sparse' && cmp '\(upper)/dense' '\(base)/gnu/dense'")
        #expect(try LayerFixtures.sh("getfattr --version >/dev/null 2>&1 || true; "
                                     + "python3 -c \"import os; print(os.getxattr('\(base)/gnu/xattr-file', 'user.comment').decode())\"")
                == "hello from the layer\n")
    }

    @Test("the same tree packs to the same bytes, gzip included")
    func deterministic() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("determinism")
        defer { LayerFixtures.remove(base) }
        let upper = base + "/upper"
        try LayerFixtures.sh("mkdir '\(upper)'")
        try UpperDirFixture.build(at: upper)
        _ = try LayerFixtures.pack(upper, to: base + "/one.tar.gz")
        // A copy made later (other inode numbers, other directory hash order, other ctimes) with
        // the same content and mtimes.
        try LayerFixtures.sh("cp -a '\(upper)' '\(base)/copy' && rm -f '\(base)/copy/socket'")
        _ = try LayerFixtures.pack(base + "/copy", to: base + "/two.tar.gz")
        try LayerFixtures.sh("sleep 1; cmp '\(base)/one.tar.gz' '\(base)/two.tar.gz'")
        _ = try LayerFixtures.pack(upper, to: base + "/three.tar.gz")
        try LayerFixtures.sh("cmp '\(base)/one.tar.gz' '\(base)/three.tar.gz' && gzip -t '\(base)/one.tar.gz'")
    }
}
