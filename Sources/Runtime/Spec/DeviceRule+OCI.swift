/// Device lists and device nodes in the OCI runtime spec's form (`linux.resources.devices`,
/// `linux.devices`), and back.
extension DeviceRule {
    public var oci: OCIRuntimeSpec.Linux.DeviceRule {
        OCIRuntimeSpec.Linux.DeviceRule(allow: allow, type: kind.rawValue, major: major.map(Int64.init),
                                        minor: minor.map(Int64.init), access: access.description)
    }

    /// A rule as a spec gives it: a missing type is "a", a missing or -1 number is any (runc's
    /// reading), a missing access is "rwm".
    public init(oci rule: OCIRuntimeSpec.Linux.DeviceRule) throws {
        func fail(_ why: String) -> RuntimeError {
            RuntimeError(.invalidArgument, "the container's spec has an invalid device rule: \(why)")
        }
        guard let kind = Kind(rawValue: rule.type ?? "a") else { throw fail("type \"\(rule.type ?? "")\" is not a, c or b") }
        func number(_ value: Int64?, _ name: String) throws -> UInt32? {
            guard let value, value != -1 else { return nil }
            guard let number = UInt32(exactly: value) else { throw fail("\(name) \(value) is not a device number") }
            return number
        }
        let access: DeviceAccess
        if let text = rule.access {
            guard let given = DeviceAccess(text) else { throw fail("access \"\(text)\" is not letters of rwm") }
            access = given
        } else {
            access = .all
        }
        self.init(allow: rule.allow, kind: kind, major: try number(rule.major, "major"), minor: try number(rule.minor, "minor"),
                  access: kind == .all ? .all : access)
    }
}

extension DeviceNode {
    public var oci: OCIRuntimeSpec.Linux.Device {
        OCIRuntimeSpec.Linux.Device(type: kind.rawValue, path: path, major: Int64(major), minor: Int64(minor), fileMode: fileMode)
    }

    /// A node a spec lists; what the container may do with it is the last rule allowing it in
    /// `rules` (the spec keeps it there), or everything when none does.
    public init(oci device: OCIRuntimeSpec.Linux.Device, rules: [DeviceRule]) throws {
        func fail(_ why: String) -> RuntimeError {
            RuntimeError(.invalidArgument, "the container's spec has an invalid device \(device.path): \(why)")
        }
        guard device.type == "c" || device.type == "b", let kind = DeviceRule.Kind(rawValue: device.type) else {
            throw RuntimeError(.unsupported, "the container's spec asks for a device of type \"\(device.type)\" at "
                               + "\(device.path): berth makes character (c) and block (b) devices")
        }
        guard device.path.hasPrefix("/") else { throw fail("the path is not absolute") }
        guard let majorValue = device.major, let major = UInt32(exactly: majorValue), major <= DeviceRule.largestMajor,
              let minorValue = device.minor, let minor = UInt32(exactly: minorValue), minor <= DeviceRule.largestMinor else {
            throw fail("it needs a major and a minor number within Linux's range")
        }
        let rule = rules.last { $0.allow && $0.kind == kind && $0.major == major && $0.minor == minor }
        self.init(path: device.path, kind: kind, major: major, minor: minor, fileMode: (device.fileMode ?? 0o660) & 0o7777,
                  access: rule?.access ?? .all)
    }
}
