import Foundation

/// Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 and a free port, with its own
/// temporary config and storage, for one test: `stop()` kills it and removes both.
final class RegistryServer {
    /// `auth.token`: the registry trusts tokens that `issuer` signed with a certificate of
    /// `rootCertificates` and that name `service` as their audience, and sends clients to `realm`.
    struct TokenAuth {
        let realm: String
        let service: String
        let issuer: String
        let rootCertificates: String
    }

    let port: Int
    let directory: String
    /// The address it listens on: 127.0.0.1, or the namespace's.
    let host: String
    let namespace: RegistryNamespace?
    private let process: Process

    /// `host:port`, as references name it.
    var address: String { "\(host):\(port)" }
    var storage: String { directory + "/storage" }
    /// What the registry logged (level `logLevel`: `info` logs every request).
    var log: String { (try? String(contentsOfFile: directory + "/registry.log", encoding: .utf8)) ?? "" }

    /// With `htpasswd` (a file's text, bcrypt entries), the registry asks for Basic credentials;
    /// with `token`, for a Bearer token. With `tls` (PEM files) it speaks HTTPS. In `namespace`,
    /// it listens on the namespace's address instead of 127.0.0.1.
    init(htpasswd: String? = nil, token: TokenAuth? = nil, tls: (certificate: String, key: String)? = nil,
         namespace: RegistryNamespace? = nil, port fixedPort: Int? = nil, logLevel: String = "error") throws {
        port = try fixedPort ?? Self.freePort()
        host = namespace?.address ?? "127.0.0.1"
        self.namespace = namespace
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-registry-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory + "/storage", withIntermediateDirectories: true)
        var config = """
            version: 0.1
            log:
              level: \(logLevel)
            storage:
              filesystem:
                rootdirectory: \(directory)/storage
              delete:
                enabled: true
            http:
              addr: \(host):\(port)

            """
        if let tls {
            config += "  tls:\n    certificate: \(tls.certificate)\n    key: \(tls.key)\n"
        }
        if htpasswd != nil {
            config += "auth:\n  htpasswd:\n    realm: berth-test\n    path: \(directory)/htpasswd\n"
        }
        if let token {
            config += """
                auth:
                  token:
                    realm: \(token.realm)
                    service: \(token.service)
                    issuer: \(token.issuer)
                    rootcertbundle: \(token.rootCertificates)

                """
        }
        if let htpasswd { try htpasswd.write(toFile: directory + "/htpasswd", atomically: true, encoding: .utf8) }
        try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: directory + "/registry.log", contents: nil)
        process = Process()
        let serve = ["/usr/bin/docker-registry", "serve", directory + "/config.yml"]
        let command = namespace?.command(serve) ?? serve
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: directory + "/registry.log")
        try process.run()
        // Up when it accepts a connection: at most 10 s.
        for _ in 0..<200 {
            if namespace?.accepts(host, port) ?? Self.accepts(port) { return }
            usleep(50_000)
        }
        stop()
        throw FixtureError(message: "docker-registry did not start on \(host):\(port): \(log)")
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The file holding blob `hex` in the registry's storage (distribution's filesystem layout).
    func blobFile(_ hex: String) -> String {
        "\(storage)/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
    }

    /// A port nothing listens on now: the kernel's pick for a socket bound to port 0.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError(message: "socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw FixtureError(message: "bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
