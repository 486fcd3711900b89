/// One item of `manifest.json`, the index `docker save` writes (and `docker load` reads) beside or
/// instead of an OCI index.json: paths inside the archive, and the image's tags.
struct DockerArchiveManifest: Codable, Sendable, Equatable {
    var config: String
    var repoTags: [String]?
    var layers: [String]

    enum CodingKeys: String, CodingKey {
        case config = "Config", repoTags = "RepoTags", layers = "Layers"
    }
}
