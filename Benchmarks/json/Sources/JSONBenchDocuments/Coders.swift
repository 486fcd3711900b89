import Containers
import FoundationEssentials
import ImageStore
import JSON
import Runtime

/// The three ways berth could read or write a document.
public enum Coder: String, CaseIterable, Sendable {
    /// berth's Codable layer: `JSON.decode` / `JSON.encode` (parse into a JSONValue, then decode).
    case codable = "ours-Codable"
    /// berth's parser and a hand-written reader or writer of the JSONValue tree
    /// (OCIImage+JSONValue.swift, ContainerRecord+JSON.swift), where the product has one.
    case value = "ours-JSONValue"
    /// FoundationEssentials' JSONDecoder / JSONEncoder on the same Codable types.
    case foundation = "Foundation"
}

/// The documents berth handles, and where.
public enum DocumentKind: String, CaseIterable, Sendable {
    case config, manifest, index, record, logLine = "log-line", runtimeSpec = "runtime-spec"

    /// Which sizes exist: the record, log line and runtime spec come in one size.
    public var sizes: [DocumentSize] {
        switch self {
        case .config, .manifest, .index: DocumentSize.allCases
        case .record, .logLine, .runtimeSpec: [.small]
        }
    }

    public func bytes(_ size: DocumentSize) -> [UInt8] {
        switch self {
        case .config: Documents.config(size)
        case .manifest: Documents.manifest(size)
        case .index: Documents.index(size)
        case .record: Documents.record()
        case .logLine: Documents.logLine()
        case .runtimeSpec: Documents.runtimeSpec()
        }
    }
}

/// What one decode produced, so the variants can be checked against each other before timing.
public enum Decoded: Equatable {
    case config(OCIImage.Configuration)
    case manifest(OCIImage.Manifest)
    case index(OCIImage.Index)
    case record(ContainerRecord)
    case logLine(log: String, stream: String, time: String)
    case runtimeSpec(OCIRuntimeSpec)

    /// A number that depends on the whole result, so the optimizer keeps the work.
    public var weight: Int {
        switch self {
        case .config(let c): c.rootfs.diffIDs.count + (c.history?.count ?? 0)
        case .manifest(let m): m.layers.count
        case .index(let i): i.manifests.count
        case .record(let r): r.args.count + r.id.utf8.count
        case .logLine(let log, _, _): log.utf8.count
        case .runtimeSpec(let s): s.linux?.seccomp?.syscalls?.count ?? 0
        }
    }
}

/// A failure of one variant on one document (the benchmark stops: the figures would be wrong).
public struct CoderFailure: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) { self.description = description }
}

/// The encoder a switch to FoundationEssentials would have to configure: sorted keys, because
/// its default order follows a Dictionary and so changes from one process to the next (a
/// config's digest is its image id: the same image must give the same bytes), and no `\/` in
/// media types (valid JSON, but not the bytes anyone else writes).
func foundationEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}

extension Coder {
    /// Whether this coder has a decode path for `kind` (the hand-written readers exist only for
    /// what the start path reads, and the runtime spec has only a Codable form).
    public func decodes(_ kind: DocumentKind) -> Bool {
        self != .value || kind != .runtimeSpec
    }

    /// Whether this coder has an encode path for `kind`. The product writes the record by hand
    /// and everything else through its Codable layer; a log line is written by berth-monitor (C).
    public func encodes(_ kind: DocumentKind) -> Bool {
        switch kind {
        case .logLine: false
        case .record: true
        case .config, .manifest, .index, .runtimeSpec: self != .value
        }
    }

    public func decode(_ kind: DocumentKind, _ bytes: [UInt8]) throws -> Decoded {
        switch (self, kind) {
        case (.codable, .config): return .config(try JSON.decode(OCIImage.Configuration.self, from: bytes))
        case (.codable, .manifest): return .manifest(try JSON.decode(OCIImage.Manifest.self, from: bytes))
        case (.codable, .index): return .index(try JSON.decode(OCIImage.Index.self, from: bytes))
        case (.codable, .record): return try Self.record(JSON.decode(RecordDocument.self, from: bytes))
        case (.codable, .logLine): return Self.logLine(try JSON.decode(LogLineDocument.self, from: bytes))
        case (.codable, .runtimeSpec): return .runtimeSpec(try JSON.decode(OCIRuntimeSpec.self, from: bytes))

        case (.value, .config): return .config(try OCIImage.Configuration(json: try JSON.parse(bytes)))
        case (.value, .manifest): return .manifest(try OCIImage.Manifest(json: try JSON.parse(bytes)))
        case (.value, .index): return .index(try OCIImage.Index(json: try JSON.parse(bytes)))
        case (.value, .record): return .record(try ContainerRecord(json: try JSON.parse(bytes)))
        case (.value, .logLine):
            // ContainerLog.Entry(line:)'s reading, which is internal to Containers.
            let value = try JSON.parse(bytes)
            guard let log = value["log"]?.string, let stream = value["stream"]?.string else {
                throw CoderFailure(description: "log line without log or stream")
            }
            return .logLine(log: log, stream: stream, time: value["time"]?.string ?? "")
        case (.value, .runtimeSpec): throw CoderFailure(description: "no hand-written reader of the runtime spec")

        // Data(bytes) copies: the product reads files into [UInt8], so a switch pays the copy
        // (or changes its file reader).
        case (.foundation, .config): return .config(try JSONDecoder().decode(OCIImage.Configuration.self, from: Data(bytes)))
        case (.foundation, .manifest): return .manifest(try JSONDecoder().decode(OCIImage.Manifest.self, from: Data(bytes)))
        case (.foundation, .index): return .index(try JSONDecoder().decode(OCIImage.Index.self, from: Data(bytes)))
        case (.foundation, .record): return try Self.record(JSONDecoder().decode(RecordDocument.self, from: Data(bytes)))
        case (.foundation, .logLine): return Self.logLine(try JSONDecoder().decode(LogLineDocument.self, from: Data(bytes)))
        case (.foundation, .runtimeSpec): return .runtimeSpec(try JSONDecoder().decode(OCIRuntimeSpec.self, from: Data(bytes)))
        }
    }

    public func encode(_ value: Decoded) throws -> [UInt8] {
        switch (self, value) {
        case (.codable, .config(let c)): return try JSON.encode(c)
        case (.codable, .manifest(let m)): return try JSON.encode(m)
        case (.codable, .index(let i)): return try JSON.encode(i)
        case (.codable, .record(let r)): return try JSON.encode(RecordDocument(r))
        case (.codable, .runtimeSpec(let s)): return try JSON.encode(s)

        case (.value, .record(let r)): return JSON.serialize(r.json)

        // Array(data) copies back: the blob store and the record writer take [UInt8].
        case (.foundation, .config(let c)): return Array(try foundationEncoder().encode(c))
        case (.foundation, .manifest(let m)): return Array(try foundationEncoder().encode(m))
        case (.foundation, .index(let i)): return Array(try foundationEncoder().encode(i))
        case (.foundation, .record(let r)): return Array(try foundationEncoder().encode(RecordDocument(r)))
        case (.foundation, .runtimeSpec(let s)): return Array(try foundationEncoder().encode(s))

        default: throw CoderFailure(description: "\(rawValue) does not encode this document")
        }
    }

    private static func record(_ document: RecordDocument) throws -> Decoded {
        guard let record = document.record else { throw CoderFailure(description: "record with an unknown status") }
        return .record(record)
    }

    private static func logLine(_ line: LogLineDocument) -> Decoded {
        .logLine(log: line.log, stream: line.stream, time: line.time ?? "")
    }
}
