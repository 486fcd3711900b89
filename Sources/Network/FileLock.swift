import FileSystem
import JSON
#if canImport(Glibc)
import Glibc
#endif

extension FileLock {
    /// Runs `body` holding the exclusive lock on `path`.
    static func withLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let fd: Int32
        do {
            fd = try acquire(path)
        } catch {
            throw NetworkError.system(error.call == "open" ? "cannot open the lock \(path)" : "cannot lock \(path)",
                                      errno: error.errno)
        }
        defer { close(fd) }
        return try body()
    }
}

/// Reads and writes the store's small JSON files.
enum StoreFile {
    static func read<T: Decodable>(_ type: T.Type, _ path: String) throws -> T? {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path)
        } catch {
            if error.errno == ENOENT { return nil }
            throw NetworkError.system("cannot read \(path)", errno: error.errno)
        }
        do {
            return try JSON.decode(type, from: bytes)
        } catch {
            throw NetworkError(.corrupt, "\(path) is not a readable network file (\(error)): remove it and create the network again")
        }
    }

    /// `durable`: the file must outlive a power cut (a network's definition; a lease dies with
    /// the containers of a boot anyway).
    static func write<T: Encodable>(_ value: T, to path: String, durable: Bool = true) throws {
        do {
            try AtomicFile.replace(path, with: JSON.encode(value, pretty: true), durable: durable)
        } catch let error as FileSystemError {
            throw NetworkError.system("cannot write \(path)", errno: error.errno)
        }
    }
}
