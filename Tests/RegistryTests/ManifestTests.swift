import ImageStore
@testable import Registry
import Testing

/// Manifests and indexes as registries serve them, the platform an index gives, and where a
/// registry is reached.
@Suite("Manifests and platforms")
struct ManifestTests {
    static let digestA = "sha256:" + String(repeating: "a", count: 64)
    static let digestB = "sha256:" + String(repeating: "b", count: 64)
    static let digestC = "sha256:" + String(repeating: "c", count: 64)

    static func manifest(mediaType: String?, layerType: String) -> String {
        let type = mediaType.map { #""mediaType":"\#($0)","# } ?? ""
        let config = #"{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"\#(digestA)","size":10}"#
        return #"{"schemaVersion":2,\#(type)"config":\#(config),"layers":[{"mediaType":"\#(layerType)","digest":"\#(digestB)","size":20}]}"#
    }

    static func entry(_ type: String, _ digest: String, _ platform: String) -> String {
        #"{"mediaType":"\#(type)","digest":"\#(digest)","size":1,"platform":\#(platform)}"#
    }

    static let index = #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":["#
        + [entry(OCIImage.MediaType.dockerManifest, digestA, #"{"architecture":"arm","os":"linux","variant":"v7"}"#),
           entry(OCIImage.MediaType.dockerManifest, digestB, #"{"architecture":"amd64","os":"linux"}"#),
           entry(OCIImage.MediaType.manifest, digestC, #"{"architecture":"arm64","os":"linux","variant":"v8"}"#)].joined(separator: ",")
        + "]}"

    @Test("Docker schema 2 and OCI manifests, by mediaType, Content-Type or shape")
    func imageManifests() throws {
        let docker = try ManifestDocument.parse(Array(Self.manifest(mediaType: OCIImage.MediaType.dockerManifest,
                                                                   layerType: "application/vnd.docker.image.rootfs.diff.tar.gzip").utf8),
                                                contentType: nil, name: "x")
        guard case .image(let manifest, let type) = docker else { Issue.record("not an image: \(docker)"); return }
        #expect(type == OCIImage.MediaType.dockerManifest)
        #expect(manifest.layers.first?.digest == Self.digestB)
        try ManifestDocument.checkLayers(manifest, name: "x")

        let bare = Array(Self.manifest(mediaType: nil, layerType: OCIImage.MediaType.layerZstd).utf8)
        let byHeader = try ManifestDocument.parse(bare, contentType: OCIImage.MediaType.manifest + "; charset=utf-8", name: "x")
        guard case .image(_, let headerType) = byHeader else { Issue.record("not an image"); return }
        #expect(headerType == OCIImage.MediaType.manifest)
    }

    @Test("an index and the platform taken from it")
    func indexPlatforms() throws {
        let document = try ManifestDocument.parse(Array(Self.index.utf8), contentType: nil, name: "x")
        guard case .index(let index, let type) = document else { Issue.record("not an index"); return }
        #expect(type == OCIImage.MediaType.dockerManifestList)
        #expect(PlatformChoice(os: "linux", architecture: "amd64").pick(from: index.manifests)?.digest == Self.digestB)
        #expect(try PlatformChoice.parse("linux/arm/v7").pick(from: index.manifests)?.digest == Self.digestA)
        #expect(try PlatformChoice.parse("linux/arm/v6").pick(from: index.manifests) == nil)
        #expect(try PlatformChoice.parse("linux/aarch64").pick(from: index.manifests)?.digest == Self.digestC)
        #expect(try PlatformChoice.parse("linux/arm64/v8").pick(from: index.manifests)?.digest == Self.digestC)
        #expect(try PlatformChoice.parse("windows/amd64").pick(from: index.manifests) == nil)
        #expect(try PlatformChoice.parse("linux/x86_64") == PlatformChoice(os: "linux", architecture: "amd64"))
        #expect(throws: RegistryError.self) { try PlatformChoice.parse("linux") }
    }

    @Test("a foreign layer is refused by name; schema 1 is refused as unsupported")
    func refused() throws {
        let foreign = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
        let document = try ManifestDocument.parse(Array(Self.manifest(mediaType: nil, layerType: foreign).utf8),
                                                  contentType: nil, name: "x")
        guard case .image(let manifest, _) = document else { Issue.record("not an image"); return }
        do {
            try ManifestDocument.checkLayers(manifest, name: "me/app:v1")
            Issue.record("a foreign layer was accepted")
        } catch let error as RegistryError {
            #expect(error.message.contains(foreign) && error.message.contains("me/app:v1"), "\(error)")
        }
        let schema1 = #"{"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws","fsLayers":[]}"#
        #expect(throws: RegistryError.self) { try ManifestDocument.parse(Array(schema1.utf8), contentType: nil, name: "x") }
    }

    @Test("plain HTTP for loopback and insecure registries only; docker.io is registry-1.docker.io")
    func endpoints() {
        #expect(RegistryEndpoint(registry: "127.0.0.1:5000").baseURL == "http://127.0.0.1:5000")
        #expect(RegistryEndpoint(registry: "localhost:5000").isPlainHTTP)
        #expect(RegistryEndpoint(registry: "localhost").isPlainHTTP)
        #expect(!RegistryEndpoint(registry: "127.0.0.1.example.com").isPlainHTTP)
        #expect(RegistryEndpoint(registry: "registry.example.com:5000").baseURL == "https://registry.example.com:5000")
        #expect(RegistryEndpoint(registry: "registry.lan", insecureRegistries: ["registry.lan"]).baseURL == "http://registry.lan")
        #expect(RegistryEndpoint(registry: "docker.io").baseURL == "https://registry-1.docker.io")
    }

    @Test("the distribution spec's error body gives the message")
    func errorBody() {
        let body = #"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nope"}}]}"#
        #expect(RegistryClient.errorMessage(body) == "MANIFEST_UNKNOWN manifest unknown")
        #expect(RegistryClient.errorMessage("<html>") == nil)
    }
}
