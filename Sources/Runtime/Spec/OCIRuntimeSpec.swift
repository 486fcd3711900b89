/// A container's configuration as the OCI runtime spec (v1.2) writes it in a bundle's
/// config.json: the model `berth-oci` reads and the engine writes.
///
/// Property names are the JSON keys, so the synthesized `Codable` conformance reads and writes
/// the spec's format; optional members are optional here and left out when nil. This module has
/// no JSON coder (no Foundation, for start-up time): callers bring their own `Decoder`.
/// Only the Linux parts of the spec are modelled; unknown keys are ignored when decoding.
public struct OCIRuntimeSpec: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var process: Process?
    public var root: Root?
    public var hostname: String?
    public var domainname: String?
    public var mounts: [Mount]?
    public var hooks: Hooks?
    public var annotations: [String: String]?
    public var linux: Linux?

    public init(ociVersion: String = "1.2.0", process: Process? = nil, root: Root? = nil,
                hostname: String? = nil, domainname: String? = nil, mounts: [Mount]? = nil,
                hooks: Hooks? = nil, annotations: [String: String]? = nil, linux: Linux? = nil) {
        self.ociVersion = ociVersion
        self.process = process
        self.root = root
        self.hostname = hostname
        self.domainname = domainname
        self.mounts = mounts
        self.hooks = hooks
        self.annotations = annotations
        self.linux = linux
    }

    /// The container's root filesystem: `path` is relative to the bundle or absolute.
    public struct Root: Codable, Sendable, Equatable {
        public var path: String
        public var readonly: Bool?

        public init(path: String, readonly: Bool? = nil) {
            self.path = path
            self.readonly = readonly
        }
    }

    /// One mount, in the order the runtime performs them.
    public struct Mount: Codable, Sendable, Equatable {
        public var destination: String
        public var type: String?
        public var source: String?
        public var options: [String]?
        /// An idmapped mount's mappings (Linux 5.12+).
        public var uidMappings: [Linux.IDMapping]?
        public var gidMappings: [Linux.IDMapping]?

        public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil,
                    uidMappings: [Linux.IDMapping]? = nil, gidMappings: [Linux.IDMapping]? = nil) {
            self.destination = destination
            self.type = type
            self.source = source
            self.options = options
            self.uidMappings = uidMappings
            self.gidMappings = gidMappings
        }
    }
}
