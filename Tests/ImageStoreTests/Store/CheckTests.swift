import Foundation
import Testing
@testable import ImageStore

@Suite("Image store: check and crash recovery", .enabled(if: getuid() == 0, "needs root: devices, trusted.* xattrs"))
struct CheckTests {
    @Test("check finds a damaged blob, a missing one, and a stray layer directory")
    func damage() throws {
        let s = try ImageStoreTests.Scratch()
        let base = try s.importTree("test/base:v1")
        #expect(try s.store.check() == [])
        let (manifest, _) = try s.documents("test/base:v1")
        let layer = try s.blobPath(manifest.layers[0])
        try LayerFixtures.sh("printf 'X' | dd of='\(layer)' bs=1 seek=10 conv=notrunc status=none")
        var problems = try s.store.check()
        #expect(problems.count == 1)
        #expect(problems.first?.contains("layer 1 of test/base:v1") == true && problems.first?.contains("damaged") == true, "\(problems)")

        try LayerFixtures.sh("rm '\(s.store.layout.blobs.path(of: base.id))'; mkdir '\(s.store.layersDirectory)/not-a-chain-id'")
        problems = try s.store.check()
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.contains { $0.contains("the config of test/base:v1") && $0.contains("missing") })
        #expect(problems.contains { $0.contains("not-a-chain-id") })
    }

    @Test("what an interrupted commit, prune or load left is removed when the store is next opened")
    func interrupted() throws {
        let s = try ImageStoreTests.Scratch()
        let base = try s.importTree("test/base:v1")
        _ = try s.commit(try s.makeUpper(), on: base.manifest, as: "test/c:v1")
        _ = try s.store.resolve("test/c:v1")
        let tmp = s.store.temporaryDirectory
        try LayerFixtures.sh("""
            set -e
            mkdir -p '\(tmp)/commit-1-abcdef'; head -c 5000 /dev/urandom > '\(tmp)/commit-1-abcdef/layer.tar.gz'
            mkdir -p '\(tmp)/gc-2-abcdef/layer/etc'; echo half > '\(tmp)/gc-2-abcdef/layer/etc/f'
            mkdir -p '\(tmp)/layer-3-abcdef/usr/bin'; ln -s / '\(tmp)/layer-3-abcdef/escape'
            echo partial > '\(tmp)/blob-4-5'
            """)
        #expect(try s.store.check().count == 4)
        try s.reopen()
        #expect(s.names(tmp) == [])
        #expect(try s.store.check() == [])
        #expect(try s.store.resolve("test/c:v1").layerDirectories.count == 2)
        #expect(FileManager.default.fileExists(atPath: "/etc/passwd"))
    }
}
