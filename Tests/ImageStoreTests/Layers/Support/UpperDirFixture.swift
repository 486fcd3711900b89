import Foundation
@testable import ImageStore

/// An overlay upper dir made by hand (root only): every kind of change `commit` must carry.
enum UpperDirFixture {
    /// security.capability v2 granting cap_net_bind_service (bit 10), effective: what
    /// `setcap cap_net_bind_service+ep` writes.
    static let netBindCapability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00] + [UInt8](repeating: 0, count: 12)
    static let longName = String(repeating: "long-directory-name-", count: 6)
    static let unicodeName = "héllo wörld ✓.txt"

    static func build(at upper: String) throws {
        try LayerFixtures.sh("""
            set -e
            cd '\(upper)'
            mkdir -p etc opaque-dir links other modes dev '\(longName)' empty-dir
            echo changed > etc/hostname
            echo new > opaque-dir/new-file
            echo renamed > renamed-new
            echo linked > links/a
            ln links/a links/b
            ln links/a other/c
            ln -s a links/sym
            ln -s /etc/passwd abs-sym
            ln -s nowhere dangling
            echo user-xattr > xattr-file
            printf '#!/bin/sh\\necho bind\\n' > capable
            chmod 0755 capable
            echo suid > modes/setuid && chmod 4755 modes/setuid
            echo sgid > modes/setgid && chmod 2711 modes/setgid
            echo private > modes/private && chmod 0600 modes/private
            echo none > modes/none && chmod 0000 modes/none
            mkdir modes/sticky && chmod 1777 modes/sticky
            mkdir modes/sgid-dir && chmod 2775 modes/sgid-dir
            echo owned > owned && chown 1000:1000 owned
            echo far > far-owner && chown 123456:654321 far-owner
            chown 0:100 other
            mkfifo fifo
            : > empty
            head -c 3000000 /dev/urandom > dense
            truncate -s 100M sparse
            printf start | dd of=sparse bs=1 conv=notrunc status=none
            printf middle | dd of=sparse bs=1 seek=52428800 conv=notrunc status=none
            echo deep > '\(longName)/\(longName)'
            echo unicode > '\(unicodeName)'
            touch -h -d @1500000000 dangling etc/hostname
            touch -d @1600000000.5 dense
            python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('socket')"
            """)
        // A deleted file, a renamed one's old name: overlay whiteouts.
        try LayerFixtures.mknod(upper + "/etc/motd", S_IFCHR, major: 0, minor: 0, mode: 0)
        try LayerFixtures.mknod(upper + "/renamed-old", S_IFCHR, major: 0, minor: 0, mode: 0)
        try LayerFixtures.mknod(upper + "/dev/null", S_IFCHR, major: 1, minor: 3, mode: 0o666)
        try LayerFixtures.mknod(upper + "/dev/loop9", S_IFBLK, major: 7, minor: 9, mode: 0o660)
        try LayerFixtures.setXattr(upper + "/opaque-dir", "trusted.overlay.opaque", Array("y".utf8))
        try LayerFixtures.setXattr(upper + "/xattr-file", "user.comment", Array("hello from the layer".utf8))
        try LayerFixtures.setXattr(upper + "/xattr-file", "user.binary", [0, 1, 2, 255, 61])
        try LayerFixtures.setXattr(upper + "/empty-dir", "user.dir", Array("on a directory".utf8))
        try LayerFixtures.setXattr(upper + "/capable", "security.capability", netBindCapability)
        // Overlay's own bookkeeping must not travel.
        try LayerFixtures.setXattr(upper + "/etc", "trusted.overlay.origin", [0xfb, 0x00])
    }
}
