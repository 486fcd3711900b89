import CFileSystem
#if canImport(Glibc)
import Glibc
#endif

/// The xattr system calls, from <sys/xattr.h> through the CFileSystem target.
enum XattrCalls {
    static func flistxattr(_ fd: Int32, _ list: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
        CFileSystem.flistxattr(fd, list, size)
    }
    static func llistxattr(_ path: UnsafePointer<CChar>, _ list: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
        CFileSystem.llistxattr(path, list, size)
    }
    static func fgetxattr(_ fd: Int32, _ name: UnsafePointer<CChar>, _ value: UnsafeMutableRawPointer?, _ size: Int) -> Int {
        CFileSystem.fgetxattr(fd, name, value, size)
    }
    static func lgetxattr(_ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeMutableRawPointer?,
                          _ size: Int) -> Int {
        CFileSystem.lgetxattr(path, name, value, size)
    }
    static func fsetxattr(_ fd: Int32, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int,
                          _ flags: Int32) -> Int32 {
        CFileSystem.fsetxattr(fd, name, value, size, flags)
    }
    static func lsetxattr(_ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?,
                          _ size: Int, _ flags: Int32) -> Int32 {
        CFileSystem.lsetxattr(path, name, value, size, flags)
    }
}

/// Extended attributes of one file, reached either by an open fd (files, directories) or by a
/// path the l* calls do not follow at the end (symlinks, devices, fifos: see LayerFS.procPath).
enum XattrTarget {
    case descriptor(Int32)
    case path([UInt8])

    /// The names set on the file; errno is left set when nil.
    func names() -> [String]? {
        var size = 256
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let n = buffer.withUnsafeMutableBufferPointer { out -> Int in
                switch self {
                case .descriptor(let fd): return XattrCalls.flistxattr(fd, out.baseAddress, out.count)
                case .path(let p): return LayerFS.withCName(p) { XattrCalls.llistxattr($0, out.baseAddress, out.count) }
                }
            }
            if n < 0 {
                // The list grew between the size probe and the read: ask again with room to spare.
                if errno == ERANGE { size *= 4; continue }
                if errno == ENOTSUP || errno == EOPNOTSUPP { return [] }
                return nil
            }
            var result: [String] = []
            var start = 0
            for i in 0..<n where buffer[i] == 0 {
                let name = buffer[start..<i].map { UInt8(bitPattern: $0) }
                if !name.isEmpty { result.append(String(decoding: name, as: UTF8.self)) }
                start = i + 1
            }
            return result
        }
    }

    /// The value of `name`, nil with errno set when absent (ENODATA) or unreadable.
    func value(_ name: String) -> [UInt8]? {
        var size = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: size)
            let n = buffer.withUnsafeMutableBytes { out -> Int in
                switch self {
                case .descriptor(let fd): return XattrCalls.fgetxattr(fd, name, out.baseAddress, out.count)
                case .path(let p): return LayerFS.withCName(p) { XattrCalls.lgetxattr($0, name, out.baseAddress, out.count) }
                }
            }
            if n < 0 {
                if errno == ERANGE, size < 1 << 17 { size *= 4; continue }
                return nil
            }
            return Array(buffer[0..<n])
        }
    }

    /// Sets `name`; false with errno set on failure.
    func set(_ name: String, _ value: [UInt8]) -> Bool {
        let rc = value.withUnsafeBytes { bytes -> Int32 in
            switch self {
            case .descriptor(let fd): return XattrCalls.fsetxattr(fd, name, bytes.baseAddress, bytes.count, 0)
            case .path(let p): return LayerFS.withCName(p) { XattrCalls.lsetxattr($0, name, bytes.baseAddress, bytes.count, 0) }
            }
        }
        return rc == 0
    }
}

/// Which extended attributes belong in a layer.
enum LayerXattrPolicy {
    /// Overlayfs keeps its own bookkeeping in `trusted.overlay.*` (or `user.overlay.*` with the
    /// userxattr mount option): opaque, origin, impure, redirect, metacopy, nlink. They describe one
    /// mount's upper dir, not the image, and read back from a layer they could steer the overlay
    /// (a redirect names another path in the lower stack). So neither direction carries them; the
    /// opaque flag travels as `.wh..wh..opq` instead.
    static func isOverlayPrivate(_ name: String) -> Bool {
        name.hasPrefix("trusted.overlay.") || name.hasPrefix("user.overlay.")
    }

    /// SELinux labels are the host's policy, not image content; Docker leaves them out of layers too.
    static func isHostLabel(_ name: String) -> Bool {
        name == "security.selinux"
    }
}
