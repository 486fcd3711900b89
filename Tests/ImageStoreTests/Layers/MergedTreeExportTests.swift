import Foundation
import Testing
@testable import ImageStore

/// `berth export`'s tar of a layer stack: overlay's lookup rule applied without a mount. Opaque
/// flags in "user.overlay." and 0/0 whiteouts need no root.
@Suite("Merged tree export")
struct MergedTreeExportTests {
    static let prefix = "user.overlay."

    @Test("the topmost layer's file wins, whiteouts and opaque directories hide the layers below, no overlay marks are written")
    func mergedView() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("export")
        defer { LayerFixtures.remove(base) }
        let bottom = base + "/bottom", middle = base + "/middle", upper = base + "/upper"
        try LayerFixtures.sh("""
            set -e
            mkdir -p '\(bottom)/etc' '\(bottom)/cache/deep' '\(bottom)/bin' '\(middle)/etc' '\(upper)/etc' '\(upper)/cache'
            echo bottom > '\(bottom)/etc/hostname'; echo motd > '\(bottom)/etc/motd'; echo old > '\(bottom)/cache/deep/a'
            echo tool > '\(bottom)/bin/tool'; echo gone > '\(bottom)/etc/gone'
            echo middle > '\(middle)/etc/hostname'; echo mid > '\(middle)/etc/middle-only'
            echo top > '\(upper)/etc/hostname'; echo fresh > '\(upper)/cache/fresh'; echo new > '\(upper)/new'
            ln -s tool '\(upper)/link'
            echo f > '\(middle)/bin-file'; mkdir '\(upper)/bin-file'; echo inside > '\(upper)/bin-file/x'
            """)
        try LayerFixtures.mknod(upper + "/etc/gone", S_IFCHR, major: 0, minor: 0, mode: 0)
        try LayerFixtures.mknod(middle + "/bin", S_IFCHR, major: 0, minor: 0, mode: 0)
        try LayerFixtures.setXattr(upper + "/cache", Self.prefix + "opaque", Array("y".utf8))

        let tar = base + "/out.tar"
        let fd = open(tar, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        let layers = [upper, middle, bottom].map { MergedTreeExport.Layer(directory: $0, overlayXattrPrefix: Self.prefix) }
        let entries = try MergedTreeExport.write(layers: layers, to: fd)
        close(fd)
        let names = try LayerFixtures.sh("tar -tf '\(tar)' | LC_ALL=C sort").split(separator: "\n").map(String.init)
        #expect(names == ["bin-file/", "bin-file/x", "cache/", "cache/fresh", "etc/", "etc/hostname", "etc/middle-only",
                          "etc/motd", "link", "new"])
        #expect(entries == names.count)
        #expect(try LayerFixtures.sh("tar -xOf '\(tar)' etc/hostname") == "top\n")
        #expect(try LayerFixtures.sh("tar -xOf '\(tar)' etc/middle-only") == "mid\n")
        let xattrs = try LayerFixtures.sh("tar --xattrs -tvf '\(tar)' --xattrs-include='*' 2>&1 | grep -c overlay || true")
        #expect(xattrs.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }
}
