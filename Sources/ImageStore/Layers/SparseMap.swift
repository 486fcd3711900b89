#if canImport(Glibc)
import Glibc
#endif

/// The data segments of a file with holes, found with SEEK_DATA/SEEK_HOLE, so the packer writes a
/// pax sparse entry (GNU sparse 1.0, which libarchive and Go's archive/tar both read) instead of
/// megabytes of zeros: a 100 MB sparse file stays a few kilobytes in the layer and on disk again
/// after unpacking.
enum SparseMap {
    /// `(offset, length)` of each data segment, or nil when the file has no hole (or the filesystem
    /// cannot tell): then it is written as a plain file.
    static func dataSegments(fd: Int32, size: Int64) -> [(offset: Int64, length: Int64)]? {
        guard size > 0 else { return nil }
        var segments: [(offset: Int64, length: Int64)] = []
        var position: Int64 = 0
        while position < size {
            let data = lseek(fd, off_t(position), LayerFS.seekData)
            if data < 0 {
                // ENXIO: nothing but hole from here to the end.
                if errno == ENXIO { break }
                return nil
            }
            if Int64(data) >= size { break }
            let hole = lseek(fd, data, LayerFS.seekHole)
            guard hole >= 0 else { return nil }
            let end = min(Int64(hole), size)
            segments.append((Int64(data), end - Int64(data)))
            position = end
        }
        lseek(fd, 0, SEEK_SET)
        // All hole: an empty segment at the end keeps it a sparse entry (with no segment at all,
        // libarchive would write it as a plain file of zeros).
        if segments.isEmpty { return [(size, 0)] }
        if segments.count == 1, segments[0].offset == 0, segments[0].length == size { return nil }
        return segments
    }
}
