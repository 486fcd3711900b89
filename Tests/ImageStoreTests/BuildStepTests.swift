import Foundation
import JSON
import Testing
@testable import ImageStore

/// The images a build's steps store: on scratch or a parent, with or without a layer, the
/// history entry appended, the parent's unmodelled config members kept, and `isComplete`.
@Suite("Build steps in the store", .enabled(if: getuid() == 0, "needs root: ownership of the packed files"))
struct BuildStepTests {
    @Test func stepsOnScratchAndOnAParent() throws {
        let s = try ImageStoreTests.Scratch()
        let scratch = OCIImage.Configuration(created: nil, author: nil, architecture: "amd64", os: "linux",
                                             config: .init(env: ["PATH=/bin"]), rootfs: .init(diffIDs: []), history: [])
        let first = try s.store.storeBuildStep(parent: nil, layerDirectory: s.source, config: scratch,
                                               history: .init(created: ImageStoreTests.date, createdBy: "COPY . /"))
        #expect(s.store.isComplete(first.manifest))
        let (id, config) = try s.store.configuration(ofManifest: first.manifest)
        #expect(id == first.id)
        #expect(config.rootfs.diffIDs.count == 1)
        #expect(config.history == [.init(created: ImageStoreTests.date, createdBy: "COPY . /")])

        var edited = config
        edited.config?.cmd = ["sh"]
        edited.config?.shell = ["/bin/bash", "-c"]
        edited.config?.onBuild = ["RUN echo hi"]
        let second = try s.store.storeBuildStep(parent: first.manifest, layerDirectory: nil, config: edited,
                                                history: .init(created: ImageStoreTests.date, createdBy: "CMD [\"sh\"]"))
        let (_, after) = try s.store.configuration(ofManifest: second.manifest)
        #expect(after.rootfs.diffIDs == config.rootfs.diffIDs, "a config step adds no layer")
        #expect(after.history?.last == .init(created: ImageStoreTests.date, createdBy: "CMD [\"sh\"]", emptyLayer: true))
        #expect(after.config?.cmd == ["sh"] && after.config?.shell == ["/bin/bash", "-c"] && after.config?.onBuild == ["RUN echo hi"])
        // Untagged in the index as build cache: found by id, not listed, kept by image prune.
        #expect(try s.store.images().isEmpty)
        #expect(try s.store.images(includeUntagged: true).isEmpty)
        #expect(try s.store.resolve(second.manifest.hex).configDigest == second.id)
        _ = try s.store.prune(all: true) { [] }
        #expect(s.store.isComplete(first.manifest) && s.store.isComplete(second.manifest))

        // A tag makes one an image like any other; an untagged result kept as an image is dangling.
        try s.store.tag(second.manifest.hex, as: try ImageReference.parse("built:1"))
        #expect(try s.store.images().map(\.reference) == ["built:1"])
        try s.store.keepAsImage(first.manifest)
        #expect(try s.store.images(includeUntagged: true).count == 2)
        try s.store.untag(try ImageReference.parse("built:1"))

        // builder prune takes the cache and nothing else; the cache's entries then miss.
        let third = try s.store.storeBuildStep(parent: second.manifest, layerDirectory: nil, config: edited,
                                               history: .init(created: ImageStoreTests.date, createdBy: "LABEL a=b"))
        let report = try s.store.prune(all: false, buildCache: .only) { [] }
        #expect(report.buildCacheImages == 1)
        #expect(!s.store.isComplete(third.manifest))
        #expect(s.store.isComplete(first.manifest) && s.store.isComplete(second.manifest), "dangling images are image prune's")
        _ = try s.store.prune(all: false) { [] }
        #expect(!s.store.isComplete(first.manifest))
        #expect(!s.store.isComplete(second.manifest))
        #expect(throws: ImageStoreError.self) {
            try s.store.storeBuildStep(parent: second.manifest, layerDirectory: nil, config: edited,
                                       history: .init(created: nil, createdBy: "X"))
        }
    }
}
