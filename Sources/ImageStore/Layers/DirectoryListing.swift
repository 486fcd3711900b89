#if canImport(Glibc)
import Glibc
#endif

/// The names in a directory (without `.` and `..`), sorted bytewise so that every walk over the
/// same tree sees the same order, whatever the filesystem's hash order is.
enum DirectoryListing {
    static func names(_ directory: Int32, entry: String) throws(LayerError) -> [[UInt8]] {
        // fdopendir takes the fd it is given; a duplicate leaves the caller's fd (and its offset) alone.
        let copy = dup(directory)
        guard copy >= 0 else { throw LayerError.system("list directory", entry: entry) }
        guard let dir = fdopendir(copy) else {
            let err = errno
            close(copy)
            throw LayerError.system("list directory", entry: entry, errno: err)
        }
        defer { closedir(dir) }
        // The duplicate shares the file offset with `directory`: start from the top whatever
        // happened to it before.
        rewinddir(dir)
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let item = readdir(dir) else {
                if errno != 0 { throw LayerError.system("list directory", entry: entry) }
                break
            }
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw -> [UInt8] in
                let bytes = raw.bindMemory(to: UInt8.self)
                let end = bytes.firstIndex(of: 0) ?? bytes.count
                return Array(bytes[0..<end])
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        return names
    }
}
