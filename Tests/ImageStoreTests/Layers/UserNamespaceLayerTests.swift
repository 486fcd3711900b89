import Foundation
import Testing
@testable import ImageStore

/// The upper dir of a container with its own user namespace: owned by host ids of its range and
/// marked in user.overlay.*, it packs as the container's ids with overlay's marks understood.
@Suite("User namespace layers", .enabled(if: geteuid() == 0, "chown needs root"))
struct UserNamespaceLayerTests {
    static let map = LayerOwnerMap(uids: [.init(containerID: 0, hostID: 262_144, size: 65536)],
                                   gids: [.init(containerID: 0, hostID: 327_680, size: 65536)])

    @Test func ownersAreShiftedBackAndOutsideIdsBecomeNobody() {
        #expect(Self.map.uid(ofHost: 262_144) == 0)
        #expect(Self.map.uid(ofHost: 263_144) == 1000)
        #expect(Self.map.gid(ofHost: 327_680 + 65535) == 65535)
        #expect(Self.map.uid(ofHost: 0) == 65534 && Self.map.gid(ofHost: 327_680 + 65536) == 65534)
    }

    @Test func aUserNamespaceUpperDirPacksAsTheContainersIds() throws {
        let base = try LayerFixtures.makeTemporaryDirectory("userns-pack")
        defer { LayerFixtures.remove(base) }
        let upper = base + "/upper", out = base + "/out"
        _ = try LayerFixtures.sh("""
            mkdir '\(upper)' '\(out)' '\(upper)/opaque' && echo a > '\(upper)/root-file' && echo b > '\(upper)/user-file' \
            && echo c > '\(upper)/stray' && chown 262144:327680 '\(upper)/root-file' '\(upper)/opaque' \
            && chown 263144:328680 '\(upper)/user-file' && chown 5:5 '\(upper)/stray'
            """)
        try LayerFixtures.setXattr(upper + "/opaque", "user.overlay.opaque", Array("y".utf8))
        _ = try LayerFixtures.pack(upper, to: base + "/layer",
                                   options: .init(overlayXattrPrefix: ImageStore.userNamespaceXattrPrefix, ownerMap: Self.map))
        _ = try LayerFixtures.unpack(base + "/layer", into: out)
        let owners = try ["root-file", "user-file", "stray", "opaque"].map { name in
            let st = try #require(LayerFixtures.lstatOf(out + "/" + name))
            return "\(st.st_uid):\(st.st_gid)"
        }
        #expect(owners == ["0:0", "1000:1000", "65534:65534", "0:0"])
        let unpacked = try TreeSnapshot.take(out, .init(xattrFilter: { _ in true }))
        #expect(unpacked["/opaque"]?.xattrs["trusted.overlay.opaque"] == Array("y".utf8))
    }
}
