import Runtime

/// One mount a container asks for, as `-v`, `--mount` or `--tmpfs` gave it: parsed and checked,
/// nothing looked up or created yet (`ContainerEngine.resolveMounts` does that).
public struct MountRequest: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// A host path; `createMissing`: made (a directory) when it does not exist, `-v`'s rule,
        /// where `--mount type=bind` refuses it.
        case bind(path: String, createMissing: Bool)
        /// A volume by name; nil: an anonymous one, named when it is made.
        case volume(name: String?)
        /// A tmpfs: mount(2)'s `flags` and tmpfs' own `options` (size=, mode=, …).
        case tmpfs(flags: MountFlags, options: [String])
    }

    public var source: Source
    /// Absolute, inside the container.
    public var destination: String
    public var readOnly = false
    /// A bind's propagation (`bind-propagation`, or a `-v` mode); nil: private.
    public var propagation: MountPropagation?
    /// A new volume is not filled with what the image has at `destination` (`volume-nocopy`).
    public var noCopy = false

    public init(source: Source, destination: String, readOnly: Bool = false, propagation: MountPropagation? = nil,
                noCopy: Bool = false) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
        self.propagation = propagation
        self.noCopy = noCopy
    }

    /// Docker's "bind", "volume" or "tmpfs".
    public var typeName: String {
        switch source {
        case .bind: "bind"
        case .volume: "volume"
        case .tmpfs: "tmpfs"
        }
    }

    /// A tmpfs's flags when none are given: Docker's (no set-user-id files, devices or programs).
    public static let tmpfsDefaultFlags: MountFlags = [.noSuid, .noDev, .noExec]
}

// MARK: - -v

extension MountRequest {
    /// Docker's `-v`: `/host/path:/ctr[:MODES]` binds a host path, `NAME:/ctr[:MODES]` a named
    /// volume, `/ctr` alone an anonymous volume. MODES is a comma-separated list of ro, rw,
    /// nocopy and a propagation.
    public static func parse(volume text: String) throws -> MountRequest {
        func fail(_ why: String) -> ContainerError {
            ContainerError(.invalidArgument, "invalid volume \"\(text)\": \(why)")
        }
        let parts = text.fields(separatedBy: ":", omittingEmptySubsequences: false)
        guard parts.count <= 3 else {
            throw fail("too many colons: use SOURCE:/container/path[:ro|rw] (a host path, or a volume name), or /container/path")
        }
        guard !parts.contains(where: \.isEmpty) else {
            throw fail("an empty part: use SOURCE:/container/path[:ro|rw], or /container/path")
        }
        if parts.count == 1 {
            return MountRequest(source: .volume(name: nil), destination: try checkedDestination(parts[0], fail))
        }
        let source = parts[0]
        var request = MountRequest(source: .bind(path: source, createMissing: true),
                                   destination: try checkedDestination(parts[1], fail))
        if !source.hasPrefix("/") {
            guard VolumeName.isValid(source) else {
                throw fail("\"\(source)\" is not a volume name (\(VolumeName.rule)); a host path must be absolute")
            }
            request.source = .volume(name: source)
        }
        guard parts.count == 3 else { return request }
        var access: String?
        for mode in parts[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            switch mode {
            case "ro", "rw":
                guard access == nil || access == mode else { throw fail("both ro and rw given") }
                access = mode
                request.readOnly = mode == "ro"
            case "nocopy":
                guard case .volume = request.source else { throw fail("nocopy is for a volume, not a bind") }
                request.noCopy = true
            default:
                guard let propagation = MountPropagation(dockerName: mode) else {
                    throw fail("unknown mode \"\(mode)\" (use ro, rw, nocopy or a propagation: "
                               + MountPropagation.dockerCases.map(\.rawValue).joined(separator: ", ") + ")")
                }
                guard case .bind = request.source else { throw fail("\(mode) is a bind's propagation, not a volume's") }
                request.propagation = propagation
            }
        }
        return request
    }
}

// MARK: - --tmpfs

extension MountRequest {
    /// Docker's `--tmpfs /ctr[:OPTIONS]`, OPTIONS as mount(8) takes them for a tmpfs: ro, rw,
    /// [no]exec, [no]suid, [no]dev, size=, mode=, uid=, gid=, nr_inodes=.
    public static func parse(tmpfs text: String) throws -> MountRequest {
        func fail(_ why: String) -> ContainerError {
            ContainerError(.invalidArgument, "invalid --tmpfs \"\(text)\": \(why)")
        }
        let parts = text.fields(separatedBy: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let destination = try checkedDestination(parts[0], fail)
        var flags = tmpfsDefaultFlags
        var options: [String] = []
        let given = parts.count == 2 ? parts[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init) : []
        for option in given {
            let toggles: [(String, MountFlags)] = [("ro", .readOnly), ("exec", .noExec), ("suid", .noSuid), ("dev", .noDev)]
            switch option {
            case "ro": flags.insert(.readOnly)
            case "rw": flags.remove(.readOnly)
            case "noexec", "nosuid", "nodev":
                if let toggle = toggles.first(where: { "no" + $0.0 == option }) { flags.insert(toggle.1) }
            case "exec", "suid", "dev":
                if let toggle = toggles.first(where: { $0.0 == option }) { flags.remove(toggle.1) }
            default:
                options.append(try tmpfsOption(option, fail))
            }
        }
        return MountRequest(source: .tmpfs(flags: flags, options: options), destination: destination,
                            readOnly: flags.contains(.readOnly))
    }

    /// A tmpfs option given as `key=value`, checked; a size becomes bytes (tmpfs takes k, m and
    /// g, not Docker's other suffixes).
    static func tmpfsOption(_ option: String, _ fail: (String) -> ContainerError) throws -> String {
        let pair = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard pair.count == 2, !pair[1].isEmpty else {
            throw fail("unknown option \"\(option)\" (use ro, rw, [no]exec, [no]suid, [no]dev, size=, mode=, uid=, gid=, nr_inodes=)")
        }
        switch pair[0] {
        case "size":
            return "size=" + String(try tmpfsSize(pair[1], fail))
        case "mode":
            return "mode=" + String(try tmpfsMode(pair[1], fail), radix: 8)
        case "uid", "gid", "nr_inodes":
            guard UInt32(pair[1]) != nil else { throw fail("\(pair[0])=\(pair[1]) is not a number") }
            return option
        default:
            throw fail("unknown option \"\(pair[0])\" (use ro, rw, [no]exec, [no]suid, [no]dev, size=, mode=, uid=, gid=, nr_inodes=)")
        }
    }

    static func tmpfsSize(_ text: String, _ fail: (String) -> ContainerError) throws -> Int64 {
        guard let bytes = try? ByteSize.parse(text) else { throw fail("size \"\(text)\" is not a size (e.g. 16m, 65536k)") }
        return bytes
    }

    static func tmpfsMode(_ text: String, _ fail: (String) -> ContainerError) throws -> UInt32 {
        guard let mode = UInt32(text, radix: 8), mode <= 0o7777 else {
            throw fail("mode \"\(text)\" is not an octal file mode (e.g. 1777)")
        }
        return mode
    }
}

// MARK: - --mount

extension MountRequest {
    /// Docker's `--mount type=bind|volume|tmpfs,src=…,dst=…[,readonly][,…]`: comma-separated
    /// keys, each key once; type defaults to volume, as with Docker.
    public static func parse(mount text: String) throws -> MountRequest {
        func fail(_ why: String) -> ContainerError {
            ContainerError(.invalidArgument, "invalid --mount \"\(text)\": \(why)")
        }
        var fields: [(key: String, value: String?)] = []
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let key = pair[0].lowercased()
            guard !key.isEmpty else { throw fail("an empty field") }
            guard !fields.contains(where: { $0.key == key }) else { throw fail("\(key) given twice") }
            fields.append((key, pair.count == 2 ? pair[1] : nil))
        }
        func flag(_ field: (key: String, value: String?)) throws -> Bool {
            switch field.value?.lowercased() {
            case nil, "true", "1": return true
            case "false", "0": return false
            case let other?: throw fail("\(field.key)=\(other): use true or false")
            }
        }
        let type = fields.first { $0.key == "type" }?.value ?? "volume"
        guard ["bind", "volume", "tmpfs"].contains(type) else {
            throw fail("unknown type \"\(type)\" (use bind, volume or tmpfs)")
        }
        var source: String?
        var destination: String?
        var readOnly = false
        var propagation: MountPropagation?
        var noCopy = false
        var tmpfsOptions: [String] = []
        for field in fields {
            func only(_ allowed: String) throws {
                guard type == allowed else { throw fail("\(field.key) is for a mount of type \(allowed), not \(type)") }
            }
            func value() throws -> String {
                guard let value = field.value, !value.isEmpty else { throw fail("\(field.key) needs a value") }
                return value
            }
            switch field.key {
            case "type": continue
            case "src", "source": source = try value()
            case "dst", "destination", "target": destination = try value()
            case "readonly", "ro": readOnly = try flag(field)
            case "bind-propagation":
                try only("bind")
                guard let known = MountPropagation(dockerName: try value()) else {
                    throw fail("unknown bind-propagation \"\(field.value ?? "")\" (use "
                               + MountPropagation.dockerCases.map(\.rawValue).joined(separator: ", ") + ")")
                }
                propagation = known
            case "volume-nocopy":
                try only("volume")
                noCopy = try flag(field)
            case "tmpfs-size":
                try only("tmpfs")
                tmpfsOptions.append("size=" + String(try tmpfsSize(try value(), fail)))
            case "tmpfs-mode":
                try only("tmpfs")
                tmpfsOptions.append("mode=" + String(try tmpfsMode(try value(), fail), radix: 8))
            default:
                throw fail("unknown key \"\(field.key)\" (use type, source, target, readonly, bind-propagation, "
                           + "volume-nocopy, tmpfs-size, tmpfs-mode)")
            }
        }
        guard let destination else { throw fail("no target: add dst=/path/in/container") }
        let checked = try checkedDestination(destination, fail)
        let kind: Source
        switch type {
        case "bind":
            guard let source else { throw fail("a bind needs src=/host/path") }
            guard source.hasPrefix("/") else { throw fail("the bind's source \"\(source)\" must be an absolute path") }
            kind = .bind(path: source, createMissing: false)
        case "volume":
            if let source, !VolumeName.isValid(source) {
                throw fail("\"\(source)\" is not a volume name (\(VolumeName.rule))")
            }
            kind = .volume(name: source)
        default:
            guard source == nil else { throw fail("a tmpfs has no source") }
            var flags = tmpfsDefaultFlags
            if readOnly { flags.insert(.readOnly) }
            kind = .tmpfs(flags: flags, options: tmpfsOptions)
        }
        return MountRequest(source: kind, destination: checked, readOnly: readOnly, propagation: propagation, noCopy: noCopy)
    }
}

// MARK: - targets

extension MountRequest {
    /// `path` as a mount target: absolute, not the root, no "..".
    static func checkedDestination(_ path: String, _ fail: (String) -> ContainerError) throws -> String {
        guard path.hasPrefix("/") else { throw fail("the container path \"\(path)\" must be absolute") }
        let components = path.fields(separatedBy: "/")
        guard components.contains(where: { $0 != "." }) else {
            throw fail("the container path must not be the container's root")
        }
        guard !components.contains("..") else { throw fail("the container path must not contain \"..\"") }
        return "/" + components.filter { $0 != "." }.joined(separator: "/")
    }

    /// Every mount the request's `-v`, `--mount` and `--tmpfs` flags ask for, in that order,
    /// with no two at one target (Docker's "duplicate mount point").
    public static func parse(volumes: [String], mounts: [String], tmpfs: [String]) throws -> [MountRequest] {
        let requests = try volumes.map { try parse(volume: $0) } + mounts.map { try parse(mount: $0) }
            + tmpfs.map { try parse(tmpfs: $0) }
        var seen: Set<String> = []
        for request in requests where !seen.insert(request.destination).inserted {
            throw ContainerError(.invalidArgument, "duplicate mount point: \(request.destination) is the target of two mounts; keep one")
        }
        return requests
    }
}
