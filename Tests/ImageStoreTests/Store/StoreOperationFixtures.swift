import Foundation
@testable import ImageStore

/// Helpers shared by the commit, lookup, removal, archive and check tests.
extension ImageStoreTests.Scratch {
    /// An upper dir like overlayfs leaves: a new file, a whiteout (char 0/0) over etc/motd, and an
    /// opaque directory replacing `empty`.
    func makeUpper(_ name: String = "upper", content: String = "added") throws -> String {
        let upper = base + "/" + name
        try LayerFixtures.sh("""
            set -e; mkdir -p '\(upper)/etc' '\(upper)/empty'
            printf '\(content)\\n' > '\(upper)/added.txt'; echo inside > '\(upper)/empty/fresh'
            touch -h -d '2024-05-06 07:08:09' '\(upper)/added.txt' '\(upper)/empty/fresh' '\(upper)/empty' '\(upper)/etc' '\(upper)'
            """)
        try LayerFixtures.mknod(upper + "/etc/motd", S_IFCHR, major: 0, minor: 0, mode: 0)
        try LayerFixtures.setXattr(upper + "/empty", "trusted.overlay.opaque", Array("y".utf8))
        return upper
    }

    func commit(_ upper: String, on parent: Digest, as ref: String?, author: String? = "me <me@example.com>",
                message: String? = "a change") throws -> ImageStore.CommitResult {
        try store.commit(upperDirectory: upper, parent: parent, as: try ref.map { try ImageReference.parse($0) },
                         author: author, message: message, createdBy: "berth commit", date: ImageStoreTests.date)
    }

    /// The hex names in blobs/sha256.
    var blobNames: [String] { names(store.layout.blobs.directory) }
    var layerNames: [String] { names(store.layersDirectory) }

    /// The manifest, config and layer blob names of an image, and its chain ids.
    func contentOf(manifest digest: Digest) throws -> (blobs: Set<String>, chains: Set<String>) {
        let (manifest, _) = try store.readManifest(digest, name: "test")
        let config = try store.readConfig(try manifest.config.parsedDigest(), name: "test")
        let chains = ChainID.chain(try config.rootfs.diffIDs.map { try Digest.parse($0) })
        let blobs = [digest.hex, try manifest.config.parsedDigest().hex] + (try manifest.layers.map { try $0.parsedDigest().hex })
        return (Set(blobs), Set(chains.map(\.hex)))
    }
}

func isUntagged(_ removed: ImageStore.RemovedImage) -> Bool {
    if case .untagged = removed { return true }
    return false
}
