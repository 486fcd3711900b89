import FileSystem
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive flock on a file, held until `withLock`'s body returns. The kernel lets go of it
/// when its holder dies, so a killed berth never leaves it taken.
enum FileLock {
    static func withLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw NetworkError.system("cannot open the lock \(path)") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw NetworkError.system("cannot lock \(path)") }
        }
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
