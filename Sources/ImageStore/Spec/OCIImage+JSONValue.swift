import JSON

/// Readers of the OCI documents straight from a parsed `JSONValue`, for the paths every
/// container start takes (index, manifest, config). The Codable route does the same job, but
/// its generic decoding containers cost the Swift runtime a metadata instantiation per type on
/// first use, in every process: about a millisecond per start, a third of what overlay adds.
/// Both readers must agree; OCIImageDecodingTests checks that they do.
///
/// Unknown members are ignored (as the Codable decoders do); a member of the wrong type or a
/// required one that is missing is a `DocumentError` that names it.
extension OCIImage {
    /// What is wrong with a document, as a path to the member ("layers[2].digest: missing").
    public struct DocumentError: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let problem: String
        public var description: String { "\(path): \(problem)" }
    }
}

/// A cursor over one JSON object, naming members in errors by their path.
struct DocumentObject {
    let members: [(key: String, value: JSONValue)]
    let path: String

    init(_ value: JSONValue, path: String) throws(OCIImage.DocumentError) {
        guard let members = value.object else { throw .init(path: path.isEmpty ? "document" : path, problem: "not an object") }
        self.members = members
        self.path = path
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The member, nil when absent or null (last one wins, as in the Codable decoders).
    func value(_ key: String) -> JSONValue? {
        guard let found = members.last(where: { $0.key == key })?.value, !found.isNull else { return nil }
        return found
    }

    func string(_ key: String) throws(OCIImage.DocumentError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.string else { throw .init(path: name(key), problem: "not a string") }
        return s
    }

    func requiredString(_ key: String) throws(OCIImage.DocumentError) -> String {
        guard let s = try string(key) else { throw .init(path: name(key), problem: "missing") }
        return s
    }

    func int64(_ key: String) throws(OCIImage.DocumentError) -> Int64? {
        guard let v = value(key) else { return nil }
        guard let n = v.int64 else { throw .init(path: name(key), problem: "not a whole number") }
        return n
    }

    func bool(_ key: String) throws(OCIImage.DocumentError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.bool else { throw .init(path: name(key), problem: "not true or false") }
        return b
    }

    func strings(_ key: String) throws(OCIImage.DocumentError) -> [String]? {
        guard let v = value(key) else { return nil }
        guard let items = v.array else { throw .init(path: name(key), problem: "not an array") }
        var result: [String] = []
        result.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard let s = item.string else { throw .init(path: "\(name(key))[\(i)]", problem: "not a string") }
            result.append(s)
        }
        return result
    }

    func stringMap(_ key: String) throws(OCIImage.DocumentError) -> [String: String]? {
        guard let v = value(key) else { return nil }
        guard let members = v.object else { throw .init(path: name(key), problem: "not an object") }
        // Made at its size: growing it would run the standard library's own [String: String]
        // code, whose first use makes the runtime walk every conformance record of the binary.
        var result = [String: String](minimumCapacity: members.count)
        for member in members {
            guard let s = member.value.string else { throw .init(path: name(key) + "." + member.key, problem: "not a string") }
            result[member.key] = s
        }
        return result
    }

    /// The keys of an object member (ExposedPorts, Volumes: `{"80/tcp": {}}`).
    func keySet(_ key: String) throws(OCIImage.DocumentError) -> [String: OCIImage.EmptyObject]? {
        guard let v = value(key) else { return nil }
        guard let members = v.object else { throw .init(path: name(key), problem: "not an object") }
        var result = [String: OCIImage.EmptyObject](minimumCapacity: members.count)
        for member in members { result[member.key] = OCIImage.EmptyObject() }
        return result
    }

    func object(_ key: String) throws(OCIImage.DocumentError) -> DocumentObject? {
        guard let v = value(key) else { return nil }
        return try DocumentObject(v, path: name(key))
    }

    func requiredObject(_ key: String) throws(OCIImage.DocumentError) -> DocumentObject {
        guard let o = try object(key) else { throw .init(path: name(key), problem: "missing") }
        return o
    }

    func objects(_ key: String) throws(OCIImage.DocumentError) -> [DocumentObject]? {
        guard let v = value(key) else { return nil }
        guard let items = v.array else { throw .init(path: name(key), problem: "not an array") }
        var result: [DocumentObject] = []
        for (i, item) in items.enumerated() { result.append(try DocumentObject(item, path: "\(name(key))[\(i)]")) }
        return result
    }
}

extension OCIImage.Descriptor {
    init(document o: DocumentObject) throws(OCIImage.DocumentError) {
        mediaType = try o.requiredString("mediaType")
        digest = try o.requiredString("digest")
        guard let size = try o.int64("size") else { throw .init(path: o.path + ".size", problem: "missing") }
        self.size = size
        annotations = try o.stringMap("annotations")
        platform = try o.object("platform").map { p throws(OCIImage.DocumentError) in
            OCIImage.Platform(architecture: try p.requiredString("architecture"), os: try p.requiredString("os"),
                              variant: try p.string("variant"))
        }
    }
}

extension OCIImage.Manifest {
    public init(json: JSONValue) throws(OCIImage.DocumentError) {
        let o = try DocumentObject(json, path: "")
        guard let version = try o.int64("schemaVersion") else { throw .init(path: "schemaVersion", problem: "missing") }
        let config = try OCIImage.Descriptor(document: try o.requiredObject("config"))
        guard let layerObjects = try o.objects("layers") else { throw .init(path: "layers", problem: "missing") }
        var layers: [OCIImage.Descriptor] = []
        for layer in layerObjects { layers.append(try OCIImage.Descriptor(document: layer)) }
        self.init(config: config, layers: layers, annotations: try o.stringMap("annotations"))
        schemaVersion = Int(version)
        mediaType = try o.string("mediaType")
    }
}

extension OCIImage.Index {
    public init(json: JSONValue) throws(OCIImage.DocumentError) {
        let o = try DocumentObject(json, path: "")
        guard let entries = try o.objects("manifests") else { throw .init(path: "manifests", problem: "missing") }
        var manifests: [OCIImage.Descriptor] = []
        for entry in entries { manifests.append(try OCIImage.Descriptor(document: entry)) }
        self.init(manifests: manifests)
        guard let version = try o.int64("schemaVersion") else { throw .init(path: "schemaVersion", problem: "missing") }
        schemaVersion = Int(version)
        mediaType = try o.string("mediaType")
        annotations = try o.stringMap("annotations")
    }
}

extension OCIImage.Configuration {
    public init(json: JSONValue) throws(OCIImage.DocumentError) {
        let o = try DocumentObject(json, path: "")
        let rootfs = try o.requiredObject("rootfs")
        var history: [OCIImage.History]?
        if let entries = try o.objects("history") {
            history = []
            for h in entries {
                history?.append(OCIImage.History(
                    created: try h.string("created"), createdBy: try h.string("created_by"),
                    author: try h.string("author"), comment: try h.string("comment"),
                    emptyLayer: try h.bool("empty_layer")))
            }
        }
        var execution: OCIImage.ExecutionConfig?
        if let c = try o.object("config") {
            execution = OCIImage.ExecutionConfig(
                user: try c.string("User"), exposedPorts: try c.keySet("ExposedPorts"), env: try c.strings("Env"),
                entrypoint: try c.strings("Entrypoint"), cmd: try c.strings("Cmd"), volumes: try c.keySet("Volumes"),
                workingDir: try c.string("WorkingDir"), labels: try c.stringMap("Labels"),
                stopSignal: try c.string("StopSignal"))
            execution?.healthcheck = try c.object("Healthcheck").map { h throws(OCIImage.DocumentError) in
                OCIImage.Healthcheck(test: try h.strings("Test"), interval: try h.int64("Interval"),
                                     timeout: try h.int64("Timeout"), startPeriod: try h.int64("StartPeriod"),
                                     retries: try h.int64("Retries").map { Int(clamping: $0) })
            }
            execution?.shell = try c.strings("Shell")
            execution?.onBuild = try c.strings("OnBuild")
        }
        var fs = OCIImage.RootFS(diffIDs: [])
        fs.type = try rootfs.requiredString("type")
        guard let diffIDs = try rootfs.strings("diff_ids") else { throw .init(path: "rootfs.diff_ids", problem: "missing") }
        fs.diffIDs = diffIDs
        self.init(created: try o.string("created"), author: try o.string("author"),
                  architecture: try o.requiredString("architecture"), os: try o.requiredString("os"),
                  config: execution, rootfs: fs, history: history)
    }
}
