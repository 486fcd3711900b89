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

    /// The credentials for `registry`, or nil (anonymous). Docker Hub's entry is found under
    /// `docker.io` or Docker's `https://index.docker.io/v1/`.
    public static func credentials(for registry: String) throws -> Credentials? {
        let keys = registry == "docker.io" ? ["docker.io", "https://index.docker.io/v1/", "index.docker.io"] : [registry]
        for file in [berthFile, dockerFile] {
            let auths = try readAuths(file)
            for key in keys {
                if let entry = auths[key] { return try decode(entry, registry: registry, file: file) }
            }
        }
        return nil
    }

    /// Stores `credentials` for `registry` in berth's file (made 0600), keeping the others.
    public static func store(_ credentials: Credentials, for registry: String) throws {
        var auths = try readAuths(berthFile)
        auths[registry] = base64(Array("\(credentials.username):\(credentials.password)".utf8))
        try write(auths)
    }

    /// Removes `registry`'s entry from berth's file; false when there was none.
    public static func remove(_ registry: String) throws -> Bool {
        var auths = try readAuths(berthFile)
        guard auths.removeValue(forKey: registry) != nil else { return false }
        try write(auths)
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

    private static func write(_ auths: [String: String]) throws {
        let file = berthFile
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
