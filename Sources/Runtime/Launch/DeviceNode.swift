#if canImport(Glibc)
import Glibc
#endif

/// A host device given to a container (`--device`, the OCI runtime spec's `linux.devices`): the
/// node made in the container's /dev, and the rule that lets the container use it.
public struct DeviceNode: Sendable, Equatable {
    /// Absolute path inside the container.
    public var path: String
    /// `.char` or `.block`.
    public var kind: DeviceRule.Kind
    public var major: UInt32
    public var minor: UInt32
    /// The node's permission bits (the host node's, as Docker makes it).
    public var fileMode: UInt32
    /// What the container may do with it ("rwm" by default).
    public var access: DeviceAccess

    public init(path: String, kind: DeviceRule.Kind, major: UInt32, minor: UInt32, fileMode: UInt32 = 0o660,
                access: DeviceAccess = .all) {
        self.path = path
        self.kind = kind
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
        self.access = access
    }

    /// The rule that opens this device, and no other, to the container.
    public var rule: DeviceRule {
        DeviceRule(allow: true, kind: kind, major: major, minor: minor, access: access)
    }

    /// Docker's `--device /dev/HOST[:/dev/CONTAINER][:rwm]`: the host path must be a character or
    /// block device; the container path defaults to the host's. Checked here, before anything is
    /// created.
    public static func parse(_ text: String) throws -> DeviceNode {
        func fail(_ why: String) -> RuntimeError {
            RuntimeError(.invalidArgument, "invalid --device \"\(text)\": \(why)")
        }
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count) else { throw fail("use /dev/HOST[:/dev/CONTAINER][:rwm]") }
        var access = DeviceAccess.all
        if parts.count > 1, !parts[parts.count - 1].hasPrefix("/") {
            guard let given = DeviceAccess(parts[parts.count - 1]) else {
                throw fail("the permissions \"\(parts[parts.count - 1])\" are not letters of rwm (r read, w write, m mknod)")
            }
            access = given
            parts.removeLast()
        }
        guard parts.count <= 2 else { throw fail("use /dev/HOST[:/dev/CONTAINER][:rwm]") }
        let host = parts[0], container = parts.count == 2 ? parts[1] : parts[0]
        guard host.hasPrefix("/") else { throw fail("the host path must be absolute") }
        guard container.hasPrefix("/"), container.split(separator: "/").contains(where: { $0 != "." }) else {
            throw fail("the container path must be absolute and not the root")
        }
        guard container.split(separator: "/").allSatisfy({ $0 != ".." }) else {
            throw fail("the container path must not contain \"..\"")
        }
        var st = stat()
        guard stat(host, &st) == 0 else {
            let err = errno
            throw RuntimeError(.invalidArgument, "invalid --device \"\(text)\": cannot stat \(host)", errno: err)
        }
        let kind: DeviceRule.Kind
        switch st.st_mode & S_IFMT {
        case S_IFCHR: kind = .char
        case S_IFBLK: kind = .block
        default: throw fail("\(host) is not a device node (give a character or block device such as /dev/sda)")
        }
        return DeviceNode(path: container, kind: kind, major: Self.major(of: UInt64(st.st_rdev)), minor: Self.minor(of: UInt64(st.st_rdev)),
                          fileMode: UInt32(st.st_mode & 0o7777), access: access)
    }

    /// major(3) and minor(3), which glibc has only as inline functions (the inverse of `makeDevice`).
    static func major(of device: UInt64) -> UInt32 { UInt32(((device >> 32) & 0xffff_f000) | ((device >> 8) & 0xfff)) }
    static func minor(of device: UInt64) -> UInt32 { UInt32(((device >> 12) & 0xffff_ff00) | (device & 0xff)) }
}
