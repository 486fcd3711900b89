/// The OCI image specification's documents (image-spec v1.1), as Codable values: the content
/// descriptor, the image manifest, the image configuration and the image index.
public enum OCIImage {
    public enum MediaType {
        public static let manifest = "application/vnd.oci.image.manifest.v1+json"
        public static let index = "application/vnd.oci.image.index.v1+json"
        public static let config = "application/vnd.oci.image.config.v1+json"
        public static let layer = "application/vnd.oci.image.layer.v1.tar"
        public static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
        public static let layerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
        /// Docker's own types for the same documents (image manifest v2 schema 2, manifest
        /// list): `docker save` with the containerd store and registries still write them.
        public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
        public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"

        /// An image manifest (one config, its layers), in OCI's or Docker's media type.
        public static func isImageManifest(_ mediaType: String) -> Bool {
            mediaType == manifest || mediaType == dockerManifest
        }

        /// An index of manifests (a multi-platform image), in OCI's or Docker's media type.
        public static func isIndex(_ mediaType: String) -> Bool {
            mediaType == index || mediaType == dockerManifestList
        }
    }

    /// The annotation that names a tag in an image layout's index.json.
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"

    /// berth's note on the index entry of a pulled image: the repository it came from
    /// (`localhost:5000/me/app`), so that a pull by digest, which has no tag, is found by
    /// `NAME@DIGEST` again.
    public static let repositoryAnnotation = "io.berth.image.repository"

    /// berth's note on the index entry of an image pulled from a multi-platform index: that
    /// index's digest, by which the registry knows the image (`RepoDigests`, `images --digests`)
    /// and by which `NAME@DIGEST` finds this platform's image again, as Docker resolves it.
    public static let indexDigestAnnotation = "io.berth.image.index"

    /// berth's mark on the index entry of an image a build step stored: build cache, kept by
    /// `image prune` and hidden from `images -a`; `builder prune` (and `system prune`) remove it.
    public static let buildCacheAnnotation = "io.berth.build.cache"

    /// A reference to content: what it is, its digest and its size.
    public struct Descriptor: Codable, Sendable, Equatable {
        public var mediaType: String
        public var digest: String
        public var size: Int64
        public var annotations: [String: String]?
        public var platform: Platform?

        public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil,
                    platform: Platform? = nil) {
            self.mediaType = mediaType
            self.digest = digest.description
            self.size = size
            self.annotations = annotations
            self.platform = platform
        }

        /// The digest, checked: a descriptor from a file or a registry is input, not truth.
        public func parsedDigest() throws -> Digest { try Digest.parse(digest) }
    }

    public struct Platform: Codable, Sendable, Equatable {
        public var architecture: String
        public var os: String
        public var variant: String?

        public init(architecture: String, os: String, variant: String? = nil) {
            self.architecture = architecture
            self.os = os
            self.variant = variant
        }
    }

    public struct Manifest: Codable, Sendable, Equatable {
        public var schemaVersion: Int
        public var mediaType: String?
        public var config: Descriptor
        public var layers: [Descriptor]
        public var annotations: [String: String]?

        public init(config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
            schemaVersion = 2
            mediaType = MediaType.manifest
            self.config = config
            self.layers = layers
            self.annotations = annotations
        }
    }

    public struct Index: Codable, Sendable, Equatable {
        public var schemaVersion: Int
        public var mediaType: String?
        public var manifests: [Descriptor]
        public var annotations: [String: String]?

        public init(manifests: [Descriptor] = []) {
            schemaVersion = 2
            mediaType = MediaType.index
            self.manifests = manifests
        }
    }

    /// The image configuration: what `berth run IMAGE` starts by default, and the history
    /// that `berth history` shows.
    public struct Configuration: Codable, Sendable, Equatable {
        public var created: String?
        public var author: String?
        public var architecture: String
        public var os: String
        public var config: ExecutionConfig?
        public var rootfs: RootFS
        public var history: [History]?

        public init(created: String?, author: String?, architecture: String, os: String,
                    config: ExecutionConfig?, rootfs: RootFS, history: [History]?) {
            self.created = created
            self.author = author
            self.architecture = architecture
            self.os = os
            self.config = config
            self.rootfs = rootfs
            self.history = history
        }
    }

    /// The defaults for a container of the image (the JSON keys are capitalised, Docker's way).
    public struct ExecutionConfig: Codable, Sendable, Equatable {
        public var user: String?
        public var exposedPorts: [String: EmptyObject]?
        public var env: [String]?
        public var entrypoint: [String]?
        public var cmd: [String]?
        public var volumes: [String: EmptyObject]?
        public var workingDir: String?
        public var labels: [String: String]?
        public var stopSignal: String?
        /// Docker's HEALTHCHECK (not in the OCI spec, kept by every tool that builds images).
        public var healthcheck: Healthcheck?
        /// Docker's SHELL: the shell form's command prefix (nil: `/bin/sh -c`).
        public var shell: [String]?
        /// Docker's ONBUILD: instructions a build FROM this image runs first, as written.
        public var onBuild: [String]?

        enum CodingKeys: String, CodingKey {
            case user = "User", exposedPorts = "ExposedPorts", env = "Env", entrypoint = "Entrypoint"
            case cmd = "Cmd", volumes = "Volumes", workingDir = "WorkingDir", labels = "Labels"
            case stopSignal = "StopSignal", healthcheck = "Healthcheck", shell = "Shell", onBuild = "OnBuild"
        }

        public init(user: String? = nil, exposedPorts: [String: EmptyObject]? = nil, env: [String]? = nil,
                    entrypoint: [String]? = nil, cmd: [String]? = nil, volumes: [String: EmptyObject]? = nil,
                    workingDir: String? = nil, labels: [String: String]? = nil, stopSignal: String? = nil) {
            self.user = user
            self.exposedPorts = exposedPorts
            self.env = env
            self.entrypoint = entrypoint
            self.cmd = cmd
            self.volumes = volumes
            self.workingDir = workingDir
            self.labels = labels
            self.stopSignal = stopSignal
        }
    }

    /// Docker's `Healthcheck`: the test (`["CMD", ...]`, `["CMD-SHELL", "..."]`, `["NONE"]`)
    /// and its timing in nanoseconds (absent or zero: Docker's defaults).
    public struct Healthcheck: Codable, Sendable, Equatable {
        public var test: [String]?
        public var interval: Int64?
        public var timeout: Int64?
        public var startPeriod: Int64?
        public var retries: Int?

        enum CodingKeys: String, CodingKey {
            case test = "Test", interval = "Interval", timeout = "Timeout", startPeriod = "StartPeriod", retries = "Retries"
        }

        public init(test: [String]?, interval: Int64? = nil, timeout: Int64? = nil, startPeriod: Int64? = nil,
                    retries: Int? = nil) {
            self.test = test
            self.interval = interval
            self.timeout = timeout
            self.startPeriod = startPeriod
            self.retries = retries
        }
    }

    /// `{}`: the value type of ExposedPorts and Volumes.
    public struct EmptyObject: Codable, Sendable, Equatable {
        public init() {}
    }

    public struct RootFS: Codable, Sendable, Equatable {
        public var type: String
        /// The digests of the uncompressed layer tars, oldest first.
        public var diffIDs: [String]

        enum CodingKeys: String, CodingKey {
            case type, diffIDs = "diff_ids"
        }

        public init(diffIDs: [Digest]) {
            type = "layers"
            self.diffIDs = diffIDs.map(\.description)
        }
    }

    public struct History: Codable, Sendable, Equatable {
        public var created: String?
        public var createdBy: String?
        public var author: String?
        public var comment: String?
        public var emptyLayer: Bool?

        enum CodingKeys: String, CodingKey {
            case created, createdBy = "created_by", author, comment, emptyLayer = "empty_layer"
        }

        public init(created: String?, createdBy: String?, author: String? = nil, comment: String? = nil,
                    emptyLayer: Bool? = nil) {
            self.created = created
            self.createdBy = createdBy
            self.author = author
            self.comment = comment
            self.emptyLayer = emptyLayer
        }
    }
}
