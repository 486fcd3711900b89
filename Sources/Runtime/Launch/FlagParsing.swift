#if canImport(Glibc)
import Glibc
#endif

extension ResourceLimit {
    /// Docker's `--ulimit name=soft[:hard]` ("nofile=1024:2048", "nproc=512").
    public static func parse(_ text: String) throws -> ResourceLimit {
        // Empty parts are kept: with split's default, which drops them, "=nproc=5" read as nproc=5.
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        func fail(_ why: String) -> RuntimeError {
            RuntimeError(.invalidArgument, "invalid ulimit \"\(text)\": \(why)")
        }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw fail("use name=soft[:hard], e.g. nofile=1024:2048")
        }
        guard let resource = names[parts[0]] else {
            throw fail("unknown resource \"\(parts[0])\" (known: \(names.keys.sorted().joined(separator: ", ")))")
        }
        let values = parts[1].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func value(_ s: String) throws -> UInt64 {
            if s == "-1" || s == "unlimited" { return UInt64.max }   // RLIM_INFINITY
            guard let v = UInt64(s) else { throw fail("\"\(s)\" is not a number") }
            return v
        }
        guard values.count <= 2 else { throw fail("use soft[:hard]") }
        let soft = try value(values[0])
        let hard = values.count == 2 ? try value(values[1]) : soft
        guard soft <= hard else { throw fail("the soft limit is above the hard limit") }
        return ResourceLimit(resource: resource, soft: soft, hard: hard)
    }

    /// RLIMIT_* numbers on Linux.
    static let names: [String: Int32] = [
        "cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "rss": 5, "nproc": 6, "nofile": 7,
        "memlock": 8, "as": 9, "locks": 10, "sigpending": 11, "msgqueue": 12, "nice": 13,
        "rtprio": 14, "rttime": 15,
    ]
}

extension BindMount {
    /// A plain bind, `/host/path:/container/path[:ro|rw]`, whose host path must exist. `berth
    /// run`'s `-v` is read by Containers' `MountRequest`, which knows volumes too and makes a
    /// missing host directory, as Docker does.
    public static func parse(_ text: String) throws -> BindMount {
        let parts = text.fields(separatedBy: ":", omittingEmptySubsequences: false)
        func fail(_ why: String) -> RuntimeError {
            RuntimeError(.invalidArgument, "invalid volume \"\(text)\": \(why)")
        }
        guard parts.count == 2 || parts.count == 3 else { throw fail("use /host/path:/container/path[:ro|rw]") }
        let source = parts[0], destination = parts[1]
        guard source.hasPrefix("/") else { throw fail("the host path must be absolute") }
        guard destination.hasPrefix("/") else { throw fail("the container path must be absolute") }
        guard destination.fields(separatedBy: "/").contains(where: { $0 != "." }) else {
            throw fail("the container path must not be the container's root")
        }
        guard destination.fields(separatedBy: "/").allSatisfy({ $0 != ".." }) else {
            throw fail("the container path must not contain \"..\"")
        }
        var readOnly = false
        if parts.count == 3 {
            switch parts[2] {
            case "ro": readOnly = true
            case "rw": readOnly = false
            default: throw fail("unknown option \"\(parts[2])\" (use ro or rw)")
            }
        }
        var st = stat()
        guard stat(source, &st) == 0 else {
            throw RuntimeError(.notFound, "volume \"\(text)\": the host path \(source) does not exist", errno: errno)
        }
        return BindMount(source: source, destination: destination, readOnly: readOnly)
    }
}
