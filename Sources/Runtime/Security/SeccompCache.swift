import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// Compiled seccomp programs on disk, one file per profile: `<directory>/<key>.bpf`, holding
/// the program followed by an 8-byte check (FNV-1a 64 of the key and the program, little-endian).
///
/// The program goes straight into the kernel as the container's filter, so a file is trusted
/// only if it is whole (the check matches: a truncated or bit-flipped file, or one left by
/// another profile, does not) and only we could have written it (owned by our user, writable by
/// no one else); anything else is a miss and gets rewritten. Writes are atomic (temp file,
/// fsync, rename), so a crash or a concurrent writer never leaves half a program behind.
struct SeccompCache {
    let directory: String

    func path(key: String) -> String { directory + "/" + key + ".bpf" }

    /// The cached program, or nil when there is none or it can't be trusted.
    func load(key: String) -> [UInt8]? {
        let fd = open(path(key: key), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
              info.st_uid == geteuid(), info.st_mode & (S_IWGRP | S_IWOTH) == 0 else { return nil }
        let size = Int(info.st_size)
        guard size > 8, size % 8 == 0, size <= SeccompCompiler.maxProgramBytes + 8 else { return nil }

        var contents = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let count = contents.withUnsafeMutableBytes { pread(fd, $0.baseAddress.map { $0 + done }, size - done, off_t(done)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            done += count
        }
        let program = Array(contents[0..<(size - 8)])
        return Array(contents[(size - 8)...]) == Self.check(program, key: key) ? program : nil
    }

    /// Writes the program atomically, creating the directory when it is missing.
    func store(_ program: [UInt8], key: String) throws {
        do {
            // 0700: the cache decides what the kernel enforces, so only we read or write it.
            try Directory.make(directory, mode: 0o700)
            // The content is synced before the rename (a name never leads to half a program); the
            // rename itself may be lost in a power cut, which only costs a compilation.
            try AtomicFile.replace(path(key: key), with: program + Self.check(program, key: key), durability: .contents)
        } catch {
            throw RuntimeError.system("\(error.call) \(error.path)", errno: error.errno)
        }
    }

    /// The trailer: FNV-1a 64 over the key and the program, little-endian. Keying it means a
    /// file renamed from another profile's entry fails too.
    private static func check(_ program: [UInt8], key: String) -> [UInt8] {
        var hash = FNV1a64()
        hash.combine(key)
        for byte in program { hash.combine(byte: byte) }
        return (0..<8).map { UInt8(truncatingIfNeeded: hash.value >> UInt64($0 * 8)) }
    }
}
