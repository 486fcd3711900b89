import JSON
import Runtime

/// The launch spec's JSON, written and read by hand: Codable's generic containers cost a
/// protocol-conformance lookup per type at their first use in a process, which is most of what
/// writing the spec added to a `berth run` (measured: 0.7 ms of CPU), and start, restart and exec
/// read it on their own start path. The members are the OCI runtime spec's; those a launch spec
/// has are the ones `ContainerConfig.ociSpec` sets, and a member the reader does not know is an
/// error, never ignored, since berth wrote the file.
extension OCIRuntimeSpec {
    var launchJSON: JSONValue {
        var fields: [(key: String, value: JSONValue)] = [("ociVersion", .string(ociVersion))]
        if let process { fields.append(("process", process.launchJSON)) }
        if let root {
            fields.append(("root", .object([("path", .string(root.path)), ("readonly", .bool(root.readonly ?? false))])))
        }
        if let hostname { fields.append(("hostname", .string(hostname))) }
        if let mounts {
            fields.append(("mounts", .array(mounts.map { mount in
                .object([("destination", .string(mount.destination)), ("type", .string(mount.type ?? "")),
                         ("source", .string(mount.source ?? "")), ("options", strings(mount.options ?? []))])
            })))
        }
        if let annotations {
            fields.append(("annotations", .object(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        if let linux { fields.append(("linux", linux.launchJSON)) }
        return .object(fields)
    }

    init(launchJSON value: JSONValue) throws(SpecReadError) {
        let o = try SpecObject(value, "")
        try o.only(["ociVersion", "process", "root", "hostname", "mounts", "annotations", "linux"])
        self.init(ociVersion: try o.string("ociVersion"))
        process = try o.object("process").map(Process.init(launchJSON:))
        root = try o.object("root").map { root throws(SpecReadError) in
            try root.only(["path", "readonly"])
            return Root(path: try root.string("path"), readonly: try root.bool("readonly"))
        }
        hostname = try o.optionalString("hostname")
        mounts = try o.objects("mounts")?.map { mount throws(SpecReadError) in
            try mount.only(["destination", "type", "source", "options"])
            return Mount(destination: try mount.string("destination"), type: try mount.optionalString("type"),
                         source: try mount.optionalString("source"), options: try mount.strings("options"))
        }
        if let annotations = try o.object("annotations") {
            var map: [String: String] = [:]
            for (key, _) in annotations.fields { map[key] = try annotations.string(key) }
            self.annotations = map
        }
        linux = try o.object("linux").map(Linux.init(launchJSON:))
    }
}

extension OCIRuntimeSpec.Process {
    var launchJSON: JSONValue {
        var userFields: [(key: String, value: JSONValue)] = [("uid", number(user.uid)), ("gid", number(user.gid))]
        if let groups = user.additionalGids { userFields.append(("additionalGids", .array(groups.map(number)))) }
        var fields: [(key: String, value: JSONValue)] = [
            ("terminal", .bool(terminal ?? false)), ("user", .object(userFields)), ("args", strings(args ?? [])),
            ("env", strings(env ?? [])), ("cwd", .string(cwd)),
        ]
        if let capabilities {
            fields.append(("capabilities", .object([
                ("bounding", strings(capabilities.bounding ?? [])), ("effective", strings(capabilities.effective ?? [])),
                ("inheritable", strings(capabilities.inheritable ?? [])), ("permitted", strings(capabilities.permitted ?? [])),
                ("ambient", strings(capabilities.ambient ?? [])),
            ])))
        }
        if let rlimits {
            fields.append(("rlimits", .array(rlimits.map { limit in
                .object([("type", .string(limit.type)), ("hard", number(limit.hard)), ("soft", number(limit.soft))])
            })))
        }
        fields.append(("noNewPrivileges", .bool(noNewPrivileges ?? false)))
        return .object(fields)
    }

    init(launchJSON o: SpecObject) throws(SpecReadError) {
        try o.only(["terminal", "user", "args", "env", "cwd", "capabilities", "rlimits", "noNewPrivileges"])
        guard let user = try o.object("user") else { throw o.missing("user") }
        try user.only(["uid", "gid", "additionalGids"])
        self.init(terminal: try o.bool("terminal"),
                  user: OCIRuntimeSpec.User(uid: try user.uint32("uid"), gid: try user.uint32("gid"),
                                            additionalGids: try user.uint32s("additionalGids")),
                  args: try o.strings("args"), env: try o.strings("env"), cwd: try o.string("cwd"),
                  noNewPrivileges: try o.bool("noNewPrivileges"))
        capabilities = try o.object("capabilities").map { caps throws(SpecReadError) in
            try caps.only(["bounding", "effective", "inheritable", "permitted", "ambient"])
            return OCIRuntimeSpec.Capabilities(
                bounding: try caps.strings("bounding"), effective: try caps.strings("effective"),
                inheritable: try caps.strings("inheritable"), permitted: try caps.strings("permitted"),
                ambient: try caps.strings("ambient"))
        }
        rlimits = try o.objects("rlimits")?.map { limit throws(SpecReadError) in
            try limit.only(["type", "hard", "soft"])
            return OCIRuntimeSpec.Rlimit(type: try limit.string("type"), hard: try limit.uint64("hard"), soft: try limit.uint64("soft"))
        }
    }
}

extension OCIRuntimeSpec.Linux {
    var launchJSON: JSONValue {
        var fields: [(key: String, value: JSONValue)] = []
        if let namespaces { fields.append(("namespaces", .array(namespaces.map { .object([("type", .string($0.type))]) }))) }
        if let uidMappings { fields.append(("uidMappings", .array(uidMappings.map(\.launchJSON)))) }
        if let gidMappings { fields.append(("gidMappings", .array(gidMappings.map(\.launchJSON)))) }
        if let resources {
            var limits: [(key: String, value: JSONValue)] = []
            if let memory = resources.memory {
                var m: [(key: String, value: JSONValue)] = []
                if let limit = memory.limit { m.append(("limit", number(limit))) }
                if let swap = memory.swap { m.append(("swap", number(swap))) }
                limits.append(("memory", .object(m)))
            }
            if let cpu = resources.cpu {
                var c: [(key: String, value: JSONValue)] = []
                if let shares = cpu.shares { c.append(("shares", number(shares))) }
                if let quota = cpu.quota { c.append(("quota", number(quota))) }
                if let period = cpu.period { c.append(("period", number(period))) }
                limits.append(("cpu", .object(c)))
            }
            if let pids = resources.pids { limits.append(("pids", .object([("limit", number(pids.limit))]))) }
            if let devices = resources.devices { limits.append(("devices", .array(devices.map(\.launchJSON)))) }
            fields.append(("resources", .object(limits)))
        }
        if let seccomp { fields.append(("seccomp", seccomp.launchJSON)) }
        if let maskedPaths { fields.append(("maskedPaths", strings(maskedPaths))) }
        if let readonlyPaths { fields.append(("readonlyPaths", strings(readonlyPaths))) }
        if let devices { fields.append(("devices", .array(devices.map(\.launchJSON)))) }
        return .object(fields)
    }

    init(launchJSON o: SpecObject) throws(SpecReadError) {
        try o.only(["namespaces", "uidMappings", "gidMappings", "resources", "seccomp", "maskedPaths", "readonlyPaths",
                    "devices"])
        self.init()
        namespaces = try o.objects("namespaces")?.map { namespace throws(SpecReadError) in
            try namespace.only(["type"])
            return Namespace(type: try namespace.string("type"))
        }
        uidMappings = try o.objects("uidMappings")?.map(IDMapping.init(launchJSON:))
        gidMappings = try o.objects("gidMappings")?.map(IDMapping.init(launchJSON:))
        if let limits = try o.object("resources") {
            try limits.only(["memory", "cpu", "pids", "devices"])
            var resources = Resources()
            if let memory = try limits.object("memory") {
                try memory.only(["limit", "swap"])
                resources.memory = Memory(limit: try memory.optionalInt64("limit"), swap: try memory.optionalInt64("swap"))
            }
            if let cpu = try limits.object("cpu") {
                try cpu.only(["shares", "quota", "period"])
                resources.cpu = CPU(shares: try cpu.optionalUInt64("shares"), quota: try cpu.optionalInt64("quota"),
                                    period: try cpu.optionalUInt64("period"))
            }
            if let pids = try limits.object("pids") {
                try pids.only(["limit"])
                guard let limit = try pids.optionalInt64("limit") else { throw pids.missing("limit") }
                resources.pids = Pids(limit: limit)
            }
            resources.devices = try limits.objects("devices")?.map(DeviceRule.init(launchJSON:))
            self.resources = resources
        }
        seccomp = try o.object("seccomp").map(Seccomp.init(launchJSON:))
        maskedPaths = try o.strings("maskedPaths")
        readonlyPaths = try o.strings("readonlyPaths")
        devices = try o.objects("devices")?.map(Device.init(launchJSON:))
    }
}

extension OCIRuntimeSpec.Linux.IDMapping {
    var launchJSON: JSONValue {
        .object([("containerID", number(containerID)), ("hostID", number(hostID)), ("size", number(size))])
    }

    init(launchJSON o: SpecObject) throws(SpecReadError) {
        try o.only(["containerID", "hostID", "size"])
        self.init(containerID: try o.uint32("containerID"), hostID: try o.uint32("hostID"), size: try o.uint32("size"))
    }
}

extension OCIRuntimeSpec.Linux.DeviceRule {
    var launchJSON: JSONValue {
        var fields: [(key: String, value: JSONValue)] = [("allow", .bool(allow))]
        if let type { fields.append(("type", .string(type))) }
        if let major { fields.append(("major", number(major))) }
        if let minor { fields.append(("minor", number(minor))) }
        if let access { fields.append(("access", .string(access))) }
        return .object(fields)
    }

    init(launchJSON o: SpecObject) throws(SpecReadError) {
        try o.only(["allow", "type", "major", "minor", "access"])
        guard let allow = try o.bool("allow") else { throw o.missing("allow") }
        self.init(allow: allow, type: try o.optionalString("type"), major: try o.optionalInt64("major"),
                  minor: try o.optionalInt64("minor"), access: try o.optionalString("access"))
    }
}

extension OCIRuntimeSpec.Linux.Device {
    var launchJSON: JSONValue {
        var fields: [(key: String, value: JSONValue)] = [("type", .string(type)), ("path", .string(path))]
        if let major { fields.append(("major", number(major))) }
        if let minor { fields.append(("minor", number(minor))) }
        if let fileMode { fields.append(("fileMode", number(fileMode))) }
        return .object(fields)
    }

    init(launchJSON o: SpecObject) throws(SpecReadError) {
        try o.only(["type", "path", "major", "minor", "fileMode"])
        self.init(type: try o.string("type"), path: try o.string("path"), major: try o.optionalInt64("major"),
                  minor: try o.optionalInt64("minor"), fileMode: try o.optionalUInt32("fileMode"))
    }
}

extension OCIRuntimeSpec.Linux.Seccomp {
    var launchJSON: JSONValue {
        var fields: [(key: String, value: JSONValue)] = [("defaultAction", .string(defaultAction))]
        if let defaultErrnoRet { fields.append(("defaultErrnoRet", number(defaultErrnoRet))) }
        fields.append(("architectures", strings(architectures ?? [])))
        fields.append(("syscalls", .array((syscalls ?? []).map { call in
            var c: [(key: String, value: JSONValue)] = [("names", strings(call.names)), ("action", .string(call.action))]
            if let errnoRet = call.errnoRet { c.append(("errnoRet", number(errnoRet))) }
            if let args = call.args {
                c.append(("args", .array(args.map { arg in
                    .object([("index", number(arg.index)), ("value", number(arg.value)),
                             ("valueTwo", number(arg.valueTwo ?? 0)), ("op", .string(arg.op))])
                })))
            }
            return .object(c)
        })))
        return .object(fields)
    }

    init(launchJSON o: SpecObject) throws(SpecReadError) {
        try o.only(["defaultAction", "defaultErrnoRet", "architectures", "syscalls"])
        self.init(defaultAction: try o.string("defaultAction"), defaultErrnoRet: try o.optionalUInt32("defaultErrnoRet"),
                  architectures: try o.strings("architectures"))
        syscalls = try o.objects("syscalls")?.map { call throws(SpecReadError) in
            try call.only(["names", "action", "errnoRet", "args"])
            return OCIRuntimeSpec.Linux.Syscall(
                names: try call.strings("names") ?? [], action: try call.string("action"),
                errnoRet: try call.optionalUInt32("errnoRet"),
                args: try call.objects("args")?.map { arg throws(SpecReadError) in
                    try arg.only(["index", "value", "valueTwo", "op"])
                    return OCIRuntimeSpec.Linux.SyscallArg(index: try arg.uint32("index"), value: try arg.uint64("value"),
                                                           valueTwo: try arg.optionalUInt64("valueTwo"), op: try arg.string("op"))
                })
        }
    }
}

/// What is wrong in a launch spec, and where ("process.user.uid").
struct SpecReadError: Error, CustomStringConvertible {
    let description: String
}

/// One object of a launch spec, with errors that name the member.
struct SpecObject {
    let fields: [(key: String, value: JSONValue)]
    let path: String

    init(_ value: JSONValue, _ path: String) throws(SpecReadError) {
        guard let fields = value.object else { throw SpecReadError(description: "\(path.isEmpty ? "the spec" : path) is not an object") }
        self.fields = fields
        self.path = path
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func missing(_ key: String) -> SpecReadError { SpecReadError(description: "\(name(key)) is missing") }

    private func wrong(_ key: String, _ kind: String) -> SpecReadError {
        SpecReadError(description: "\(name(key)) is not \(kind)")
    }

    /// Refuses members other than `known`: berth wrote this file, so anything else is damage.
    /// `known` is an array: a handful of keys are compared faster than a set of them is built
    /// and hashed, once per object of the spec.
    func only(_ known: [String]) throws(SpecReadError) {
        if let unknown = fields.first(where: { !known.contains($0.key) }) {
            throw SpecReadError(description: "\(name(unknown.key)) is not a member berth writes")
        }
    }

    private func value(_ key: String) -> JSONValue? {
        guard let found = fields.first(where: { $0.key == key })?.value, !found.isNull else { return nil }
        return found
    }

    func object(_ key: String) throws(SpecReadError) -> SpecObject? {
        guard let found = value(key) else { return nil }
        return try SpecObject(found, name(key))
    }

    func objects(_ key: String) throws(SpecReadError) -> [SpecObject]? {
        guard let found = value(key) else { return nil }
        guard let items = found.array else { throw wrong(key, "an array") }
        var result: [SpecObject] = []
        for (i, item) in items.enumerated() { result.append(try SpecObject(item, "\(name(key))[\(i)]")) }
        return result
    }

    func optionalString(_ key: String) throws(SpecReadError) -> String? {
        guard let found = value(key) else { return nil }
        guard let text = found.string else { throw wrong(key, "a string") }
        return text
    }

    func string(_ key: String) throws(SpecReadError) -> String {
        guard let text = try optionalString(key) else { throw missing(key) }
        return text
    }

    func strings(_ key: String) throws(SpecReadError) -> [String]? {
        guard let found = value(key) else { return nil }
        guard let items = found.array else { throw wrong(key, "an array of strings") }
        var result: [String] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard let text = item.string else { throw wrong(key, "an array of strings") }
            result.append(text)
        }
        return result
    }

    func bool(_ key: String) throws(SpecReadError) -> Bool? {
        guard let found = value(key) else { return nil }
        guard let flag = found.bool else { throw wrong(key, "true or false") }
        return flag
    }

    private func integer<T: FixedWidthInteger>(_ key: String, _ type: T.Type) throws(SpecReadError) -> T? {
        guard let found = value(key) else { return nil }
        guard let number = found.number?.integer(as: T.self) else { throw wrong(key, "a whole number in range") }
        return number
    }

    func optionalInt64(_ key: String) throws(SpecReadError) -> Int64? { try integer(key, Int64.self) }
    func optionalUInt64(_ key: String) throws(SpecReadError) -> UInt64? { try integer(key, UInt64.self) }
    func optionalUInt32(_ key: String) throws(SpecReadError) -> UInt32? { try integer(key, UInt32.self) }

    func uint32(_ key: String) throws(SpecReadError) -> UInt32 {
        guard let number = try integer(key, UInt32.self) else { throw missing(key) }
        return number
    }

    func uint64(_ key: String) throws(SpecReadError) -> UInt64 {
        guard let number = try integer(key, UInt64.self) else { throw missing(key) }
        return number
    }

    func uint32s(_ key: String) throws(SpecReadError) -> [UInt32]? {
        guard let found = value(key) else { return nil }
        guard let items = found.array else { throw wrong(key, "an array of numbers") }
        var result: [UInt32] = []
        for item in items {
            guard let number = item.number?.integer(as: UInt32.self) else { throw wrong(key, "an array of numbers") }
            result.append(number)
        }
        return result
    }
}

private func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

private func number<T: BinaryInteger>(_ value: T) -> JSONValue { .number(JSONNumber(value)) }
