import BerthErrors
import Containers
import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// A Compose project: a file read, checked and resolved, and the name its networks, volumes
/// and containers carry. What `compose up`, `ps`, `down` and the proxy's deploy all start from.
public struct ComposeProject: Sendable {
    /// `-p`, else COMPOSE_PROJECT_NAME (the environment's or the `.env` file's), else the file's `name:`, else its directory's name
    /// (normalised as Compose does).
    public var name: String
    /// The file's absolute path.
    public var file: String
    /// The file's directory: relative paths in it are taken from here, and `.env` is read here.
    public var directory: String
    public var model: ComposeModel
    /// Lines for stderr: the keys berth ignores (one line), variables set nowhere.
    public var warnings: [String]

    /// The names `compose` looks for, in Docker Compose's order.
    public static let defaultFileNames = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"]

    /// Reads the project: `file` (-f), or the first of `defaultFileNames` in
    /// `workingDirectory`; `projectName` is -p. `environment` is the caller's (the process
    /// environment), with the `.env` file beside the Compose file under it.
    public static func load(file: String?, projectName: String?, workingDirectory: String,
                            environment: [String: String]) throws(BerthError) -> ComposeProject {
        let (path, shown) = try locate(file, in: workingDirectory)
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path)
        } catch {
            throw BerthError(.notFound, "cannot read the Compose file \(shown): \(error)")
        }
        let directory = Self.directory(of: path)
        var variables = environment
        let dotEnv = directory + "/.env"
        if access(dotEnv, F_OK) == 0 {
            for (key, value) in try EnvironmentFile.read(dotEnv) where variables[key] == nil { variables[key] = value }
        }
        var interpolation = Interpolation(variables: variables, file: shown)
        let root = try interpolation.apply(try YAMLReader.read(bytes, file: shown), path: "")
        let name = try resolveName(given: projectName ?? variables["COMPOSE_PROJECT_NAME"], root: root,
                                   directory: directory, file: shown)
        var decoder = ComposeDecoder(file: shown, directory: directory, projectName: name, environment: variables)
        let model = try decoder.decode(root)
        var warnings = interpolation.unset.map {
            "\(shown): the variable \($0) is not set; it stands for an empty string"
        }
        if !decoder.ignored.isEmpty {
            warnings.append("\(shown): ignoring unsupported keys: " + decoder.ignored.joined(separator: ", "))
        }
        for service in model.services where !service.keysProxiedInstancesLack.isEmpty {
            warnings.append("\(shown): services.\(service.name) is proxied, so its instances do not get "
                            + service.keysProxiedInstancesLack.map { "\($0.key) (\($0.reason))" }.joined(separator: ", "))
        }
        return ComposeProject(name: name, file: path, directory: directory, model: model, warnings: warnings)
    }

    /// A project known only by its name (`-p NAME` where there is no file): enough for what
    /// finds the project's containers, networks and volumes by their labels (`down`, `ps`).
    public static func named(_ name: String, workingDirectory: String) throws(BerthError) -> ComposeProject {
        guard isValidProjectName(name) else {
            throw BerthError(.invalidArgument, "invalid project name \"\(name)\": use lowercase letters, digits, '_' and '-', "
                             + "starting with a letter or digit")
        }
        return ComposeProject(name: name, file: "", directory: workingDirectory,
                              model: ComposeModel(services: [], networks: [], volumes: []), warnings: [])
    }

    /// The file to read, absolute, and its name as errors show it (as given, or the default
    /// name found).
    static func locate(_ file: String?, in workingDirectory: String) throws(BerthError) -> (path: String, shown: String) {
        if let file {
            return (file.hasPrefix("/") ? file : workingDirectory + "/" + file, file)
        }
        for name in defaultFileNames where access(workingDirectory + "/" + name, F_OK) == 0 {
            return (workingDirectory + "/" + name, name)
        }
        throw BerthError(.notFound, "no Compose file in \(workingDirectory): write compose.yaml there, or name one with -f FILE")
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func resolveName(given: String?, root: YAMLNode, directory: String, file: String) throws(BerthError) -> String {
        if let given {
            guard isValidProjectName(given) else {
                throw BerthError(.invalidArgument, "invalid project name \"\(given)\": use lowercase letters, digits, '_' and '-', "
                                 + "starting with a letter or digit")
            }
            return given
        }
        if let node = root["name"] {
            guard let text = node.scalar, !node.isNull, isValidProjectName(text) else {
                throw BerthError(.invalidArgument, "\(file):\(node.line): name must be a project name: lowercase letters, "
                                 + "digits, '_' and '-', starting with a letter or digit")
            }
            return text
        }
        let base = String(directory.split(separator: "/").last ?? "")
        let normalized = normalizedName(base)
        guard !normalized.isEmpty else {
            throw BerthError(.invalidArgument, "the directory name \"\(base)\" makes no project name: give one with -p NAME "
                             + "or name: in the file")
        }
        return normalized
    }

    /// Compose's normalisation of a directory's name: lowercased, only letters, digits, '_' and
    /// '-' kept, and leading characters dropped until a letter or digit.
    public static func normalizedName(_ text: String) -> String {
        var scalars = text.lowercased().unicodeScalars.filter { $0.isASCII && (isAlphanumeric($0) || $0 == "_" || $0 == "-") }
        while let first = scalars.first, !isAlphanumeric(first) { scalars.removeFirst() }
        return String(String.UnicodeScalarView(scalars))
    }

    public static func isValidProjectName(_ text: String) -> Bool {
        !text.isEmpty && normalizedName(text) == text
    }

    private static func isAlphanumeric(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }

    /// The process's environment, as `load` takes it.
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        // environ ends with a null pointer; the count bounds the walk in any case.
        for _ in 0..<100_000 {
            guard let entry = pointer.pointee else { break }
            let text = String(cString: entry)
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, result[String(parts[0])] == nil { result[String(parts[0])] = String(parts[1]) }
            pointer += 1
        }
        return result
    }
}
