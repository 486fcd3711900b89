import ImageStore
import JSON

/// A document a registry answers a manifest request with: an image manifest (OCI's or Docker's
/// schema 2) or an index (OCI's, or Docker's manifest list), told apart by its `mediaType`, the
/// response's Content-Type, or its shape, in that order.
public enum ManifestDocument: Sendable, Equatable {
    case image(OCIImage.Manifest, mediaType: String)
    case index(OCIImage.Index, mediaType: String)

    /// What a pull's Accept header asks for.
    public static let acceptedTypes = [
        OCIImage.MediaType.manifest, OCIImage.MediaType.index,
        OCIImage.MediaType.dockerManifest, OCIImage.MediaType.dockerManifestList,
    ]

    /// Parses `bytes`; `name` (the reference or digest asked for) is for messages.
    public static func parse(_ bytes: [UInt8], contentType: String?, name: String) throws -> ManifestDocument {
        let json: JSONValue
        do {
            json = try JSON.parse(bytes)
        } catch {
            throw RegistryError(.corrupt, "the manifest of \(name) is not JSON: \(error)")
        }
        var mediaType: String?
        var shapeIsIndex = false
        if case .object(let members) = json {
            for (key, value) in members {
                if key == "mediaType", case .string(let type) = value { mediaType = type }
                if key == "manifests" { shapeIsIndex = true }
            }
        }
        let type = mediaType
            ?? contentType.map { String($0.prefix { $0 != ";" }).trimmingSpaces() }.flatMap { acceptedTypes.contains($0) ? $0 : nil }
            ?? (shapeIsIndex ? OCIImage.MediaType.index : OCIImage.MediaType.manifest)
        do {
            if OCIImage.MediaType.isIndex(type) { return .index(try OCIImage.Index(json: json), mediaType: type) }
            if OCIImage.MediaType.isImageManifest(type) { return .image(try OCIImage.Manifest(json: json), mediaType: type) }
        } catch {
            throw RegistryError(.corrupt, "the manifest of \(name) does not parse: \(error)")
        }
        throw RegistryError(.unsupported, "the manifest of \(name) is a \(type), which berth cannot pull "
                                + "(it reads OCI and Docker schema 2 manifests and indexes)")
    }

    /// Refuses an image whose layers the store cannot unpack, naming the first such media type.
    public static func checkLayers(_ manifest: OCIImage.Manifest, name: String) throws {
        for layer in manifest.layers where !ImageStore.pullableLayerTypes.contains(layer.mediaType) {
            throw RegistryError(.unsupported, "\(name) has a layer of media type \(layer.mediaType) (\(layer.digest)), "
                                    + "which berth cannot use: only tar layers, plain, gzip or zstd")
        }
    }
}
