import ImageStore
import JSON
import Testing

/// The hand-written readers of the start path (`init(json:)`) and the Codable decoders read the
/// same documents the same way.
@Suite("OCI document readers") struct OCIImageDecodingTests {
    static let manifest = """
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
         "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:\(String(repeating: "a", count: 64))","size":1234},
         "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:\(String(repeating: "b", count: 64))","size":99,
                    "annotations":{"x":"y"}}],
         "annotations":{"org.example":"z"},"unknown":[1,2,3]}
        """
    static let index = """
        {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",
         "digest":"sha256:\(String(repeating: "c", count: 64))","size":5,
         "annotations":{"org.opencontainers.image.ref.name":"busybox:1.35"},
         "platform":{"architecture":"amd64","os":"linux","variant":"v8"}}]}
        """
    static let config = """
        {"created":"2026-11-25T17:00:00Z","author":"Ada","architecture":"amd64","os":"linux",
         "config":{"User":"nobody","ExposedPorts":{"80/tcp":{}},"Env":["PATH=/bin","A=1"],"Entrypoint":["/init"],
                   "Cmd":["sh","-c","x"],"Volumes":{"/data":{}},"WorkingDir":"/srv","Labels":{"a":"b"},
                   "StopSignal":"SIGQUIT","Healthcheck":{"Test":["NONE"]}},
         "rootfs":{"type":"layers","diff_ids":["sha256:\(String(repeating: "d", count: 64))"]},
         "history":[{"created":"2026-11-25T17:00:00Z","created_by":"import","comment":"c","empty_layer":true},{"author":"B"}],
         "container_config":{"Hostname":"x"}}
        """

    @Test func manifestsAgree() throws {
        let codable = try JSON.decode(OCIImage.Manifest.self, from: Self.manifest)
        #expect(try OCIImage.Manifest(json: JSON.parse(Self.manifest)) == codable)
        #expect(codable.layers.first?.annotations == ["x": "y"])
    }

    @Test func indexesAgree() throws {
        let codable = try JSON.decode(OCIImage.Index.self, from: Self.index)
        #expect(try OCIImage.Index(json: JSON.parse(Self.index)) == codable)
        #expect(codable.manifests.first?.platform?.variant == "v8")
    }

    @Test func configsAgree() throws {
        let codable = try JSON.decode(OCIImage.Configuration.self, from: Self.config)
        let manual = try OCIImage.Configuration(json: JSON.parse(Self.config))
        #expect(manual == codable)
        #expect(manual.config?.exposedPorts?.keys.sorted() == ["80/tcp"])
        #expect(manual.history?.count == 2)
    }

    @Test(arguments: [
        (#"{"schemaVersion":2,"layers":[]}"#, "config: missing"),
        (#"{"schemaVersion":2,"config":{"mediaType":"m","digest":"d","size":"big"},"layers":[]}"#, "config.size: not a whole number"),
        (#"{"schemaVersion":2,"config":{"mediaType":"m","digest":"d","size":1},"layers":[{"mediaType":"m","size":1}]}"#, "layers[0].digest: missing"),
        (#"[]"#, "document: not an object"),
    ])
    func badManifestsNameTheMember(text: String, problem: String) throws {
        let error = #expect(throws: OCIImage.DocumentError.self) { try OCIImage.Manifest(json: JSON.parse(text)) }
        #expect(error?.description == problem)
    }

    @Test func aConfigWithoutDiffIDsIsRefused() throws {
        let text = #"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}"#
        let error = #expect(throws: OCIImage.DocumentError.self) { try OCIImage.Configuration(json: JSON.parse(text)) }
        #expect(error?.description == "rootfs.diff_ids: missing")
    }
}
