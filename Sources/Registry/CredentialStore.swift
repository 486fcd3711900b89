import FileSystem
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// Where `berth login` keeps credentials, and where berth looks for them: its own file first,
/// then Docker's `~/.docker/config.json` (so a `docker login` is used as it is). Both have
/// Docker's shape, `{"auths": {"HOST": {"auth": base64("user:password")}}}`; berth's is
/// `~/.config/berth/config.json` (`$XDG_CONFIG_HOME/berth/` when set), mode 0600, per user as
/// Docker's is. Credentials are never printed or logged.
public enum CredentialStore {
    /// berth's own credentials file.
    public static var berthFile: String { configDirectory + "/config.json" }

    /// The user's berth configuration: `~/.config/berth` (`$XDG_CONFIG_HOME/berth` when set).
    public static var configDirectory: String {
        if let config = getenv("XDG_CONFIG_HOME").map({ String(cString: $0) }), !config.isEmpty {
            return config + "/berth"
        }
        return home + "/.config/berth"
    }

    static var dockerFile: String { home + "/.docker/config.json" }

    static var home: String { getenv("HOME").map { String(cString: $0) } ?? "/root" }

    /// The registry a login names, as references name it: a URL's scheme and path are dropped
    /// (`https://localhost:5000/v2/` is `localhost:5000`), and Docker's spellings of Docker Hub
    /// (`index.docker.io`, `https://index.docker.io/v1/`, `registry-1.docker.io`) are
    /// `docker.io`, as `docker login` reads them: one registry, one stored entry.
    public static func registryName(_ server: String) -> String {
        var name = Substring(server)
        for scheme in ["https://", "http://"] where name.lowercased().hasPrefix(scheme) {
            name = name.dropFirst(scheme.count)
        }
        name = name.prefix { $0 != "/" }
        return dockerHubNames.contains(name.lowercased()) ? "docker.io" : String(name)
    }

    /// Docker Hub's hosts: the one references name, the one Docker's config keys, the API's.
    static let dockerHubNames: Set<String> = ["docker.io", "index.docker.io", "registry-1.docker.io"]

    /// The credentials for `registry`, or nil (anonymous). An entry is found under any spelling
    /// of the registry (`registryName`): Docker Hub's under `docker.io` or Docker's
    /// `https://index.docker.io/v1/`.
    public static func credentials(for registry: String) throws -> Credentials? {
        try credentials(for: registry, files: [berthFile, dockerFile])
    }

    static func credentials(for registry: String, files: [String]) throws -> Credentials? {
        let name = registryName(registry)
        for file in files {
            let auths = try readAuths(file)
            // The exact key first, then any other spelling of it, in a stable order.
            let key = auths[name] != nil ? name : auths.keys.sorted().first { registryName($0) == name }
            if let key, let entry = auths[key] { return try decode(entry, registry: name, file: file) }
        }
        return nil
    }

    /// Stores `credentials` for `registry` in berth's file (made 0600), keeping the others; an
    /// entry under another spelling of the same registry is replaced.
    public static func store(_ credentials: Credentials, for registry: String) throws {
        try store(credentials, for: registry, file: berthFile)
    }

    static func store(_ credentials: Credentials, for registry: String, file: String) throws {
        let name = registryName(registry)
        var auths = try readAuths(file).filter { registryName($0.key) != name }
        auths[name] = base64(Array("\(credentials.username):\(credentials.password)".utf8))
        try write(auths, to: file)
    }

    /// Removes `registry`'s entry (under any of its spellings) from berth's file; false when
    /// there was none.
    public static func remove(_ registry: String) throws -> Bool {
        try remove(registry, file: berthFile)
    }

    static func remove(_ registry: String, file: String) throws -> Bool {
        let name = registryName(registry)
        let auths = try readAuths(file)
        let kept = auths.filter { registryName($0.key) != name }
        guard kept.count < auths.count else { return false }
        try write(kept, to: file)
        return true
    }

    /// Host → the base64 `auth` value, from a file of Docker's shape; none when it is missing.
    static func readAuths(_ file: String) throws -> [String: String] {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(file)
        } catch {
            if error.errno == ENOENT { return [:] }
            throw RegistryError(.systemError, "cannot read \(file)", errno: error.errno)
        }
        return try parseAuths(bytes, file: file)
    }

    static func parseAuths(_ bytes: [UInt8], file: String) throws -> [String: String] {
        guard case .object(let top)? = try? JSON.parse(bytes) else {
            throw RegistryError(.corrupt, "\(file) is not a JSON object; fix or remove it")
        }
        guard let auths = top.first(where: { $0.key == "auths" }), case .object(let hosts) = auths.value else { return [:] }
        var result: [String: String] = [:]
        for (host, entry) in hosts {
            guard case .object(let fields) = entry, let auth = fields.first(where: { $0.key == "auth" }),
                  case .string(let value) = auth.value else { continue }
            result[host] = value
        }
        return result
    }

    static func decode(_ auth: String, registry: String, file: String) throws -> Credentials {
        guard let bytes = base64Decoded(auth), let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else {
            throw RegistryError(.corrupt, "the auth entry for \(registry) in \(file) is not base64 of user:password; "
                                    + "run berth login \(registry) again")
        }
        return Credentials(username: String(decoding: bytes[..<colon], as: UTF8.self),
                           password: String(decoding: bytes[(colon + 1)...], as: UTF8.self))
    }

    private static func write(_ auths: [String: String], to file: String) throws {
        let directory = String(file[..<(file.lastIndex(of: "/") ?? file.endIndex)])
        let hosts: [(key: String, value: JSONValue)] = auths.sorted { $0.key < $1.key }.map { host, auth in
            (key: host, value: JSONValue.object([(key: "auth", value: .string(auth))]))
        }
        let value = JSONValue.object([(key: "auths", value: .object(hosts))])
        do {
            try Directory.make(directory, mode: 0o700)
            try AtomicFile.replace(file, with: JSON.serialize(value, pretty: true), mode: 0o600, durable: true)
        } catch {
            throw RegistryError(.systemError, "cannot write \(file)", errno: error.errno)
        }
    }
}
