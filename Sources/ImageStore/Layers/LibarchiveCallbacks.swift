import CLibarchive

// libarchive's client callbacks as C function pointers. The header's own typedefs
// (archive_read_callback, archive_write_callback) come into Swift as plain Swift function types,
// and a closure stored as one of those cannot be handed to libarchive.

/// Gives libarchive the next block of input: its address in `buffer`, its length as the result.
typealias LibarchiveReadCallback = @convention(c) (
    _ archive: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<UnsafeRawPointer?>?
) -> la_ssize_t

/// Takes `length` bytes of libarchive's output; the result is how many were written, -1 on error.
typealias LibarchiveWriteCallback = @convention(c) (
    _ archive: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ buffer: UnsafeRawPointer?, _ length: Int
) -> la_ssize_t
