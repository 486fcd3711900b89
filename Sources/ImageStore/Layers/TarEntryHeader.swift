import CLibarchive
#if canImport(Glibc)
import Glibc
#endif

/// The fields of one tar header the unpacker uses, copied out of libarchive's entry so that the
/// rest of the code is plain Swift and the names stay raw bytes.
struct TarEntryHeader {
    var path: [UInt8]
    /// S_IFREG, S_IFDIR, … (libarchive's AE_IF* are the same values).
    var type: mode_t
    /// Permission bits including setuid, setgid and sticky.
    var permissions: mode_t
    var uid: Int64
    var gid: Int64
    var size: Int64
    var mtime: timespec
    var atime: timespec
    var symlinkTarget: [UInt8]?
    var hardlinkTarget: [UInt8]?
    var deviceMajor: UInt32
    var deviceMinor: UInt32
    var xattrs: [(name: String, value: [UInt8])]

    init(_ entry: OpaquePointer) {
        path = TarEntryHeader.name(archive_entry_pathname(entry), archive_entry_pathname_utf8(entry)) ?? []
        type = archive_entry_filetype(entry)
        permissions = archive_entry_perm(entry) & 0o7777
        uid = archive_entry_uid(entry)
        gid = archive_entry_gid(entry)
        size = archive_entry_size(entry)
        mtime = timespec(tv_sec: archive_entry_mtime(entry), tv_nsec: Int(archive_entry_mtime_nsec(entry)))
        // Layers rarely carry an atime; the file's mtime is the honest stand-in (what tar does too).
        atime = archive_entry_atime_is_set(entry) != 0
            ? timespec(tv_sec: archive_entry_atime(entry), tv_nsec: Int(archive_entry_atime_nsec(entry)))
            : mtime
        symlinkTarget = TarEntryHeader.name(archive_entry_symlink(entry), archive_entry_symlink_utf8(entry))
        hardlinkTarget = TarEntryHeader.name(archive_entry_hardlink(entry), archive_entry_hardlink_utf8(entry))
        deviceMajor = UInt32(truncatingIfNeeded: archive_entry_rdevmajor(entry))
        deviceMinor = UInt32(truncatingIfNeeded: archive_entry_rdevminor(entry))
        xattrs = []
        if archive_entry_xattr_reset(entry) > 0 {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var length = 0
            while archive_entry_xattr_next(entry, &name, &value, &length) == ARCHIVE_OK {
                guard let name else { continue }
                let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
                xattrs.append((String(cString: name), bytes))
            }
        }
    }

    /// libarchive keeps a name in the locale's charset and in UTF-8 and converts between them on
    /// demand; in the C locale a non-ASCII name converts only one way. Take whichever form exists,
    /// the locale's first because it holds the header's bytes unchanged.
    private static func name(_ locale: UnsafePointer<CChar>?, _ utf8: @autoclosure () -> UnsafePointer<CChar>?) -> [UInt8]? {
        if let locale { return LayerFS.bytes(locale) }
        return utf8().map(LayerFS.bytes)
    }
}
