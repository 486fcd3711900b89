import Foundation
import Testing
@testable import ImageStore

/// The whole life of a layer on a real overlay mount: unpack a base image as a lowerdir, change
/// things in a container-like mount, pack the upper dir, unpack it as a new lowerdir, and check
/// that the two-layer image shows exactly what the container saw.
@Suite("Layers on a real overlay mount", .enabled(if: LayerFixtures.isRoot, "needs root to mount overlayfs"))
struct OverlayRoundTripTests {
    @Test("commit then run: lower2:lower1 shows what the container's merged view showed")
    func commitAndRemount() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("overlay")
        defer { LayerFixtures.remove(base) }
        let src = base + "/src", lower1 = base + "/lower1", lower2 = base + "/lower2"
        let upper = base + "/upper", work = base + "/work", merged = base + "/merged", image = base + "/image"
        try LayerFixtures.sh("mkdir '\(src)' '\(lower1)' '\(lower2)' '\(upper)' '\(work)' '\(merged)' '\(image)'")
        try LayerFixtures.sh("""
            set -e
            cd '\(src)'
            mkdir -p etc var/cache usr/bin data/dir-to-rename/sub empty
            echo welcome > etc/motd; echo base > etc/hostname; echo keep > etc/keep
            echo a > var/cache/a; echo b > var/cache/b
            printf '#!/bin/sh\\n' > usr/bin/tool; chmod 0755 usr/bin/tool
            echo content > data/dir-to-rename/sub/file
            echo old > data/to-rename
            echo shared > data/h1; ln data/h1 data/h2
            ln -s ../etc/motd data/motd-link
            head -c 200000 /dev/urandom > data/blob
            tar -C '\(src)' --xattrs -cf '\(base)/base.tar' .
            """)
        _ = try LayerFixtures.unpack(base + "/base.tar", into: lower1)

        // The container: a read-write overlay over the base image.
        let container = try OverlayMount.mount(lowers: [lower1], upper: upper, work: work, at: merged)
        var containerMounted = true
        defer { if containerMounted { container.unmount() } }
        try LayerFixtures.sh("""
            set -e
            cd '\(merged)'
            rm etc/motd
            rm -rf var/cache && mkdir var/cache && echo c > var/cache/c
            mv data/to-rename data/renamed
            mv data/dir-to-rename data/dir-renamed
            echo hi > greeting; ln greeting greeting-link; ln -s greeting greeting-sym
            chmod 4755 usr/bin/tool
            chown 1000:1000 etc/keep
            echo more >> etc/hostname
            rm data/h1
            mknod dev-null c 1 3
            mkfifo fifo
            truncate -s 50M sparse && printf x | dd of=sparse bs=1 seek=1000000 conv=notrunc status=none
            python3 -c "import os; os.setxattr('greeting', 'user.note', b'from the container')"
            """)
        let seen = try TreeSnapshot.take(merged)

        // berth diff, against the base image.
        let changes = try LayerDiff.changes(upperDirectory: upper, lower: LayerDiff.lowerLookup(layers: [lower1]))
        let lines = Set(changes.map(\.description))
        for expected in ["C /etc", "D /etc/motd", "C /etc/hostname", "C /etc/keep", "D /var/cache", "A /var/cache/c",
                         "A /data/renamed", "D /data/to-rename", "D /data/dir-to-rename", "A /data/dir-renamed",
                         "A /data/dir-renamed/sub/file", "D /data/h1", "A /greeting", "A /greeting-link",
                         "C /usr/bin/tool", "A /dev-null", "A /fifo", "A /sparse"] {
            #expect(lines.contains(expected), "missing \(expected) in \(changes)")
        }
        #expect(!lines.contains("C /usr"), "a directory overlay only copied up on the way is not a change")

        container.unmount()
        containerMounted = false

        // berth commit, then a new lowerdir from the layer.
        _ = try LayerFixtures.pack(upper, to: base + "/layer.tar.gz")
        _ = try LayerFixtures.unpack(base + "/layer.tar.gz", into: lower2)
        #expect(LayerFS.fileType(LayerFixtures.lstatOf(lower2 + "/etc/motd")?.st_mode ?? 0) == S_IFCHR)

        // berth run of the new image.
        let run = try OverlayMount.mount(lowers: [lower2, lower1], at: image)
        defer { run.unmount() }
        let shown = try TreeSnapshot.take(image)
        let differences = TreeSnapshot.differences(seen, shown)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        #expect(shown["/etc/motd"] == nil && shown["/var/cache/a"] == nil && shown["/data/to-rename"] == nil)
        #expect(shown["/var/cache/c"] != nil && shown["/data/dir-renamed/sub/file"] != nil)
        #expect(shown["/greeting"]?.xattrs["user.note"] == Array("from the container".utf8))
        #expect(shown["/greeting"]?.hardlinks == ["/greeting-link"])
        let sparse = try #require(LayerFixtures.lstatOf(lower2 + "/sparse"))
        #expect(sparse.st_blocks * 512 < 1 << 20)
    }
}
