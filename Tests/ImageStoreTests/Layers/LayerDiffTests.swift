import Foundation
import Testing
@testable import ImageStore

/// `berth diff` on hand-made upper and lower dirs. Opaque flags use the "user.overlay." namespace
/// (overlay's userxattr form) and whiteouts are 0/0 devices, which Linux lets anyone make, so
/// these tests need no root.
@Suite("Layer diff")
struct LayerDiffTests {
    static let prefix = "user.overlay."

    @Test("docker diff's rules: A, C, D, parents of A and D, copied-up directories left out")
    func dockerRules() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("diff")
        defer { LayerFixtures.remove(base) }
        let lower = base + "/lower", upper = base + "/upper"
        try LayerFixtures.sh("""
            set -e
            mkdir -p '\(lower)/etc' '\(lower)/var/cache' '\(lower)/usr/bin' '\(lower)/modes'
            echo motd > '\(lower)/etc/motd'; echo host > '\(lower)/etc/hostname'; echo a > '\(lower)/var/cache/a'
            echo tool > '\(lower)/usr/bin/tool'
            mkdir -p '\(upper)/etc' '\(upper)/var/cache' '\(upper)/usr/bin' '\(upper)/newdir' '\(upper)/modes'
            echo changed > '\(upper)/etc/hostname'; echo hi > '\(upper)/greeting'; echo n > '\(upper)/newdir/file'
            echo new > '\(upper)/var/cache/new'; echo tool2 > '\(upper)/usr/bin/tool'
            chmod 0700 '\(upper)/modes'
            # What overlay's copy-up does: the directory keeps the lower one's mode and times.
            for d in etc var usr usr/bin modes; do touch -d @1500000000 '\(lower)'/$d '\(upper)'/$d; done
            """)
        try LayerFixtures.mknod(upper + "/etc/motd", S_IFCHR, major: 0, minor: 0, mode: 0)
        try LayerFixtures.setXattr(upper + "/var/cache", Self.prefix + "opaque", Array("y".utf8))
        // /etc looks unchanged itself: it is listed only as the parent of the deletion.
        try LayerFixtures.sh("touch -d @1500000000 '\(upper)/etc'")

        let changes = try LayerDiff.changes(upperDirectory: upper, overlayXattrPrefix: Self.prefix,
                                            lower: LayerDiff.lowerLookup(layers: [lower], overlayXattrPrefix: Self.prefix))
        #expect(changes.map(\.description) == [
            "C /etc/hostname", "C /etc", "D /etc/motd",
            "A /greeting",
            "C /modes",
            "A /newdir", "A /newdir/file",
            "C /usr/bin/tool",
            "C /var", "D /var/cache", "A /var/cache/new",
        ])
    }

    @Test("the lower lookup resolves like overlay: whiteouts, opaque dirs, non-directories and links hide")
    func lowerLookup() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("lookup")
        defer { LayerFixtures.remove(base) }
        let top = base + "/top", bottom = base + "/bottom"
        try LayerFixtures.sh("""
            set -e
            mkdir -p '\(bottom)/a' '\(bottom)/b' '\(bottom)/c' '\(top)/a' '\(top)/b'
            echo 1 > '\(bottom)/a/file'; echo 2 > '\(bottom)/a/kept'; echo 3 > '\(bottom)/b/file'; echo 4 > '\(bottom)/c/file'
            echo 5 > '\(bottom)/d'; ln -s /etc '\(bottom)/link'
            echo top > '\(top)/b/other'; echo not-a-dir > '\(top)/c'
            """)
        try LayerFixtures.mknod(top + "/a/file", S_IFCHR, major: 0, minor: 0, mode: 0)
        try LayerFixtures.setXattr(top + "/b", Self.prefix + "opaque", Array("y".utf8))
        let lookup = LayerDiff.lowerLookup(layers: [top, bottom], overlayXattrPrefix: Self.prefix)
        #expect(lookup("/a/file") == nil, "whited out in the top layer")
        #expect(lookup("/a/kept")?.size == 2)
        #expect(lookup("/a")?.isDirectory == true)
        #expect(lookup("/b/file") == nil, "below an opaque directory")
        #expect(lookup("/b/other")?.size == 4)
        #expect(lookup("/c/file") == nil, "the top layer's /c is a file")
        #expect(lookup("/c")?.isDirectory == false)
        #expect(lookup("/d")?.size == 2)
        #expect(lookup("/link/passwd") == nil, "a link in the way is not followed out of the layer")
        #expect(lookup("/link") != nil)
        #expect(lookup("/missing") == nil)
        #expect(lookup("/") == nil)
    }
}
