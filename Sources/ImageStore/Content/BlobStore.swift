import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// The content-addressed blobs of the OCI image layout (`blobs/sha256/<hex>`). Every blob is
/// hashed on the way in and lands under its digest only once complete and verified: it is
/// written to a temporary file beside the layout, fsync'ed, and renamed into place, so a reader
/// (or a berth killed half way) never sees half a blob under a digest. The renames are made
/// durable by one fsync of the blob directory when the index is next written
/// (`OCILayout.writeIndex`), before anything names the blobs: a blob nothing names yet may be
/// lost in a power cut at no harm, and an import, commit or load pays one directory sync, not
/// one per blob.
public struct BlobStore: Sendable {
    /// `<layout>/blobs/sha256`.
    public let directory: String
    /// Where blobs are written before they are verified; on the same filesystem as `directory`,
    /// outside the layout so that tools reading the layout never see them.
    public let temporaryDirectory: String

    public init(layout: String, temporaryDirectory: String) {
        directory = layout + "/blobs/sha256"
        self.temporaryDirectory = temporaryDirectory
    }

    public func path(of digest: Digest) -> String { directory + "/" + digest.hex }

    public func contains(_ digest: Digest) -> Bool {
        access(path(of: digest), F_OK) == 0
    }

    /// Stores `bytes`; with `expected`, refuses content whose digest differs.
    @discardableResult
    public func ingest(_ bytes: [UInt8], expected: Digest? = nil) throws -> (digest: Digest, size: Int64) {
        var offset = 0
        return try ingest(expected: expected, expectedSize: nil) { buffer in
            let n = min(buffer.count, bytes.count - offset)
            guard n > 0, let base = buffer.baseAddress else { return 0 }
            bytes.withUnsafeBytes { source in
                if let from = source.baseAddress { base.copyMemory(from: from + offset, byteCount: n) }
            }
            offset += n
            return n
        }
    }

    /// Stores what `fd` holds until EOF.
    @discardableResult
    public func ingest(from fd: Int32, expected: Digest? = nil, expectedSize: Int64? = nil) throws -> (digest: Digest, size: Int64) {
        try ingest(expected: expected, expectedSize: expectedSize) { buffer in
            while true {
                let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
                if n >= 0 { return n }
                if errno != EINTR { throw ImageStoreError(.systemError, "cannot read the blob being stored", errno: errno) }
            }
        }
    }

    /// Moves a file the caller wrote and hashed itself (a layer it just packed, whose bytes the
    /// packer's observer hashed on the way out) under its digest, without reading it again: the
    /// copy and second hash `ingest` would make cost a commit a large part of its time.
    /// `file` must be in `temporaryDirectory` (same filesystem); it is fsync'ed here, and is gone
    /// afterwards either way.
    public func adopt(_ file: String, digest: Digest) throws {
        defer { unlink(file) }
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageStoreError(.systemError, "cannot open \(file)", errno: errno) }
        let synced = fsync(fd) == 0
        let err = errno
        close(fd)
        guard synced else { throw ImageStoreError(.systemError, "cannot fsync \(file)", errno: err) }
        try makeDirectories(directory)
        // Over a blob already there too: the new bytes are verified, the old ones may be damaged.
        guard rename(file, path(of: digest)) == 0 else {
            throw ImageStoreError(.systemError, "cannot move the blob into \(path(of: digest))", errno: errno)
        }
    }

    /// The one ingest path: `next` fills a buffer and returns how many bytes it put there (0 at
    /// the end).
    func ingest(expected: Digest?, expectedSize: Int64?,
                        next: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> (digest: Digest, size: Int64) {
        try makeDirectories(directory)
        try makeDirectories(temporaryDirectory)
        let temp = temporaryDirectory + "/blob-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ImageStoreError(.systemError, "cannot create \(temp)", errno: errno) }
        var keep = false
        defer { if !keep { unlink(temp) } }

        var digester = Digester()
        do {
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = try buffer.withUnsafeMutableBytes { try next($0) }
                if n == 0 { break }
                try buffer.withUnsafeBytes { chunk in
                    let part = UnsafeRawBufferPointer(rebasing: chunk[0..<n])
                    digester.update(part)
                    try writeAll(fd, part, path: temp)
                }
                if let expectedSize, digester.count > expectedSize {
                    throw ImageStoreError(.corrupt, "blob \(expected?.description ?? "") is larger than the \(expectedSize) bytes "
                                              + "its descriptor says")
                }
            }
            guard fsync(fd) == 0 else { throw ImageStoreError(.systemError, "cannot fsync \(temp)", errno: errno) }
        }
        let digest = digester.finalize()
        if let expected, digest != expected {
            throw ImageStoreError(.corrupt, "blob digest mismatch: expected \(expected), got \(digest) "
                                      + "(the content is damaged or not what was asked for)")
        }
        if let expectedSize, digester.count != expectedSize {
            throw ImageStoreError(.corrupt, "blob \(digest) has \(digester.count) bytes, its descriptor says \(expectedSize)")
        }
        // Over a blob already there too: these bytes are verified, the old ones may be damaged
        // (`check` reports such a blob; loading or pulling it again repairs it).
        guard rename(temp, path(of: digest)) == 0 else {
            throw ImageStoreError(.systemError, "cannot move the blob into \(path(of: digest))", errno: errno)
        }
        keep = true
        return (digest, digester.count)
    }

    /// The blob's bytes, checked against its digest (a blob damaged on disk is an error, not
    /// content).
    public func read(_ digest: Digest) throws -> [UInt8] {
        let file = path(of: digest)
        guard contains(digest) else { throw ImageStoreError(.notFound, "blob \(digest) is not in the store") }
        let bytes = try readFile(file)
        guard Digest.of(bytes) == digest else {
            throw ImageStoreError(.corrupt, "blob \(digest) is damaged: its content no longer matches its digest (\(file))")
        }
        return bytes
    }

    public func remove(_ digest: Digest) throws {
        guard unlink(path(of: digest)) == 0 || errno == ENOENT else {
            throw ImageStoreError(.systemError, "cannot remove blob \(digest)", errno: errno)
        }
    }

    /// Every blob in the store (names that are not digests are ignored).
    public func all() -> [Digest] {
        listDirectory(directory).compactMap { Digest("sha256:" + $0) }
    }

    /// Removes what interrupted ingests left in the temporary directory. Only call it while
    /// holding the store's exclusive lock: another berth may be ingesting right now otherwise.
    public func removeIncomplete() {
        for name in listDirectory(temporaryDirectory) where name.hasPrefix("blob-") {
            unlink(temporaryDirectory + "/" + name)
        }
    }
}

// The store's use of the FileSystem helpers, their failures said as ImageStoreErrors.

func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    do {
        try FileIO.writeAll(fd, bytes, path: path)
    } catch {
        throw ImageStoreError(.systemError, "cannot write \(path)", errno: error.errno)
    }
}

/// fsync of a directory, so a rename into it survives a crash.
func syncDirectory(_ path: String) throws {
    do {
        try Directory.sync(path)
    } catch {
        throw ImageStoreError(.systemError, "cannot sync \(path)", errno: error.errno)
    }
}

/// The names in a directory, sorted; none when it cannot be read.
func listDirectory(_ path: String) -> [String] { (try? Directory.names(atPath: path)) ?? [] }

/// mkdir -p.
func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
    do {
        try Directory.make(path, mode: mode)
    } catch {
        throw ImageStoreError(.systemError, "cannot create directory \(error.path)", errno: error.errno)
    }
}
