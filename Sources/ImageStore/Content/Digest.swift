import Crypto
import FileSystem

/// A content digest in the OCI form `sha256:<64 lowercase hex>`. Only sha256 is accepted: it is
/// what every registry and tool writes, and one algorithm keeps the store's paths simple.
public struct Digest: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    /// The 64 hex characters.
    public let hex: String

    public init?(_ description: String) {
        guard description.hasPrefix("sha256:") else { return nil }
        let hex = description.dropFirst("sha256:".count)
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            return nil
        }
        self.hex = String(hex)
    }

    /// Parses a digest from user or file input, with an error that says what was wrong.
    public static func parse(_ text: String) throws -> Digest {
        guard let digest = Digest(text) else {
            throw ImageStoreError(.invalidReference,
                                  "invalid digest \"\(text)\": expected sha256: followed by 64 lowercase hex characters")
        }
        return digest
    }

    /// The digest of `bytes`.
    public static func of<Bytes: Sequence>(_ bytes: Bytes) -> Digest where Bytes.Element == UInt8 {
        var hasher = Digester()
        hasher.update(Array(bytes))
        return hasher.finalize()
    }

    public var description: String { "sha256:" + hex }

    /// The short form people see: the first 12 hex characters (an image id in `berth images`).
    public var short: String { String(hex.prefix(12)) }

    public static func < (a: Digest, b: Digest) -> Bool { a.hex < b.hex }
}

/// Computes a digest incrementally, for streams that should not be held in memory.
public struct Digester: Sendable {
    private var hash = SHA256()
    public private(set) var count: Int64 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hash.update(bufferPointer: bytes)
        count += Int64(bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public func finalize() -> Digest {
        var hex = ""
        // Through its bytes, not its iterator: swift-crypto's generic makeIterator costs a
        // run-time conformance lookup at its first use (every image run reads a manifest).
        hash.finalize().withUnsafeBytes { hex = Hex.encode($0) }
        // 64 lowercase hex characters always parse.
        guard let digest = Digest("sha256:" + hex) else {
            fatalError("a sha256 hex string did not parse as a digest")
        }
        return digest
    }
}
