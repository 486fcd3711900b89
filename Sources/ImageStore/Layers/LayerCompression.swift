/// How a layer stream is compressed: found by libarchive's filter detection when unpacking, chosen
/// by the caller when packing.
public enum LayerCompression: String, Sendable, Equatable {
    case none
    case gzip
    case zstd
    case xz
    case bzip2

    /// The OCI media type of a layer stored this way (xz and bzip2 have none: they are accepted
    /// from `import`, never written to the store).
    public var mediaType: String? {
        switch self {
        case .none: "application/vnd.oci.image.layer.v1.tar"
        case .gzip: "application/vnd.oci.image.layer.v1.tar+gzip"
        case .zstd: "application/vnd.oci.image.layer.v1.tar+zstd"
        case .xz, .bzip2: nil
        }
    }
}
