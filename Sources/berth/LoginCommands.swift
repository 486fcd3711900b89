import CommandLineParsing
import Registry
#if canImport(Glibc)
import Glibc
#endif

/// `berth login`: checks a user name and password against a registry and keeps them in
/// `~/.config/berth/config.json` (0600, Docker's shape). The password comes from stdin only: on
/// a command line, every process could read it.
struct LoginRegistry: BerthCommand {
    static let spec = CommandSpec(
        name: "login", abstract: "Log in to a registry.",
        discussion: "Credentials are kept in ~/.config/berth/config.json (mode 0600); Docker's ~/.docker/config.json is also read.",
        usage: "[OPTIONS] SERVER",
        options: [
            .value("username", short: "u", valueName: "name", help: "The user name."),
            .flag("password-stdin", help: "Read the password from standard input (required)."),
            .repeatable("insecure-registry", valueName: "host[:port]", help: "Speak plain HTTP to this registry."),
        ])

    let server: String
    let username: String
    let insecureRegistries: [String]

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        guard parsed.positionals.count == 1 else { throw UsageError("login takes one registry: berth login SERVER -u NAME --password-stdin") }
        guard let username = parsed.string("username"), !username.isEmpty else { throw UsageError("login needs -u NAME") }
        guard parsed.flag("password-stdin") else { throw UsageError("login reads the password from stdin only: give --password-stdin") }
        // `index.docker.io`, `https://index.docker.io/v1/`: Docker Hub, as `docker.io` names it.
        server = CredentialStore.registryName(parsed.positionals[0])
        guard !server.isEmpty else { throw UsageError("login needs a registry: berth login SERVER, not \"\(parsed.positionals[0])\"") }
        self.username = username
        insecureRegistries = parsed.strings("insecure-registry")
    }

    func run() throws -> Int32 {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        // A password is short: at most 64 KiB is read.
        while bytes.count < 65536 {
            let n = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += buffer[0..<n]
        }
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else { throw RegistryError(.invalidArgument, "no password on standard input; nothing was stored") }
        let credentials = Credentials(username: username, password: String(decoding: bytes, as: UTF8.self))
        let endpoint = RegistryEndpoint(registry: server, insecureRegistries: insecureRegistries)
        if endpoint.isPlainHTTP {
            Output.writeLine(STDERR_FILENO, "berth: warning: registry \(server) is spoken to over plain HTTP (not encrypted)")
        }
        let client = RegistryClient(endpoint: endpoint, credentials: credentials)
        try waitFor {
            do {
                try await client.checkLogin()
                await client.shutdown()
            } catch {
                await client.shutdown()
                throw error
            }
        }
        try CredentialStore.store(credentials, for: server)
        Output.print("Login Succeeded")
        return 0
    }
}

/// `berth logout`: forgets a registry's credentials in berth's file.
struct LogoutRegistry: BerthCommand {
    static let spec = CommandSpec(name: "logout", abstract: "Log out from a registry.", usage: "SERVER")

    let server: String

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        guard parsed.positionals.count == 1 else { throw UsageError("logout takes one registry: berth logout SERVER") }
        server = CredentialStore.registryName(parsed.positionals[0])
    }

    func run() throws -> Int32 {
        guard try CredentialStore.remove(server) else {
            throw RegistryError(.notFound, "not logged in to \(server) (no entry in \(CredentialStore.berthFile))")
        }
        Output.print("Removing login credentials for \(server)")
        return 0
    }
}
