import BerthErrors
import FileSystem
import JSON
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// berth-oci's state directory (`--root`, `/run/berth-oci` by default, as runc's is
/// /run/runc): one directory per container holding its record (`state.json`) and, between
/// create and start, its exec fifo. A directory without a record is a create under way.
public struct OCIStateRoot: Sendable {
    public static let defaultPath = "/run/berth-oci"
    public let path: String

    public init(path: String = OCIStateRoot.defaultPath) {
        self.path = path
    }

    public func directory(of id: String) -> String { path + "/" + id }
    func recordPath(of id: String) -> String { directory(of: id) + "/state.json" }
    func fifoPath(of id: String) -> String { directory(of: id) + "/exec.fifo" }

    /// The ids of every container, in name order.
    public func ids() throws -> [String] {
        guard access(path, F_OK) == 0 else { return [] }
        do {
            return try Directory.names(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw RuntimeError(.systemError, "cannot list berth-oci's state directory \(path): \(error.reason)")
        }
    }

    /// Makes the container's directory; an id already there is refused (mkdir is the claim).
    func claim(_ id: String) throws {
        try Self.checkID(id)
        do { try Directory.make(path, mode: 0o711) } catch {
            throw RuntimeError(.systemError, "cannot create berth-oci's state directory \(path): \(error.reason)")
        }
        guard mkdir(directory(of: id), 0o711) == 0 else {
            if errno == EEXIST {
                throw RuntimeError(.conflict, "container \(id) already exists in \(path): "
                                   + "delete it first (berth-oci delete \(id)) or choose another id")
            }
            throw RuntimeError.system("cannot create the state directory \(directory(of: id))")
        }
    }

    func write(_ record: OCIContainerRecord) throws {
        let bytes = try JSON.encode(record)
        do { try AtomicFile.replace(recordPath(of: record.id), with: bytes, mode: 0o600, durable: false) } catch {
            throw RuntimeError(.systemError, "cannot write the state of container \(record.id): \(error.reason)")
        }
    }

    /// The record of `id`; nil while its create is under way.
    public func record(of id: String) throws -> OCIContainerRecord? {
        try Self.checkID(id)
        guard access(directory(of: id), F_OK) == 0 else {
            throw RuntimeError(.notFound, "container \(id) does not exist in \(path): "
                               + "berth-oci list shows the containers there (is --root the one it was created with?)")
        }
        let bytes: [UInt8]
        do { bytes = try FileIO.readFile(recordPath(of: id)) } catch {
            if error.errno == ENOENT { return nil }
            throw RuntimeError(.systemError, "cannot read the state of container \(id): \(error.reason)")
        }
        do { return try JSON.decode(OCIContainerRecord.self, from: bytes) } catch {
            throw RuntimeError(.corrupt, "the state of container \(id) (\(recordPath(of: id))) is damaged: \(error); "
                               + "remove it with berth-oci delete --force \(id)")
        }
    }

    /// Removes the container's directory and all in it.
    func remove(_ id: String) throws {
        do { try FileTree.remove(directory(of: id)) } catch {
            if error.errno == ENOENT { return }
            throw RuntimeError(.systemError, "cannot remove the state directory of container \(id): \(error.reason)")
        }
    }

    /// An id names a directory: no slash, no dot names, nothing empty.
    static func checkID(_ id: String) throws {
        guard !id.isEmpty, id != ".", id != "..", !id.contains("/"), id.utf8.count <= 1024 else {
            throw RuntimeError(.invalidArgument, "\"\(id)\" is not a container id: use letters, digits, '-', '_' and '.', no '/'")
        }
    }
}
