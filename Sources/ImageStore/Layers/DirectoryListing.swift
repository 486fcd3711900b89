import FileSystem

/// The names in a directory (without `.` and `..`), sorted bytewise so that every walk over the
/// same tree sees the same order, whatever the filesystem's hash order is: FileSystem's listing,
/// its failure said as a LayerError about `entry`.
enum DirectoryListing {
    static func names(_ directory: Int32, entry: String) throws(LayerError) -> [[UInt8]] {
        do {
            return try Directory.names(directory, path: entry)
        } catch {
            throw LayerError.system("list directory", entry: entry, errno: error.errno)
        }
    }
}
