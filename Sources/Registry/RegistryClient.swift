import AsyncHTTPClient
import JSON
import NIOCore
import NIOHTTP1
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// A registry error that a retry may cure: a 5xx answer, or a connection that failed or broke.
struct TransientFailure: Error {
    let description: String
}

/// The HTTP side of talking to one registry: requests with the credentials its challenge asks
/// for (anonymous, Basic, or a Bearer token per repository scope), retried with back-off on
/// 5xx answers and connection errors. Made only by the registry commands: nothing on the run
/// path starts its event loops.
public final class RegistryClient: Sendable {
    public let endpoint: RegistryEndpoint
    let http: HTTPClient
    let credentials: Credentials?
    let tokens = TokenCache()
    /// Attempts per request (the first and the retries).
    let attempts: Int

    /// Where Docker users put a registry's CA (`certs.d/HOST:PORT/ca.crt`): berth's copy of
    /// Docker's `/etc/docker/certs.d` for the machine, and the user's own under berth's
    /// configuration directory (as Podman's `~/.config/containers/certs.d`), which needs no root.
    public static var certificatesDirectories: [String] {
        ["/etc/berth/certs.d", CredentialStore.configDirectory + "/certs.d"]
    }

    /// `caFile` (`--tls-ca`) and each `certs.d/<registry>/ca.crt` there is are trusted besides
    /// the system's CAs.
    public init(endpoint: RegistryEndpoint, credentials: Credentials? = nil, caFile: String? = nil, attempts: Int = 4) {
        self.endpoint = endpoint
        self.credentials = credentials
        self.attempts = attempts
        var tls = TLSConfiguration.makeClientConfiguration()
        let perRegistry = Self.certificatesDirectories.map { $0 + "/" + endpoint.name + "/ca.crt" }.filter { access($0, R_OK) == 0 }
        tls.additionalTrustRoots = ([caFile].compactMap { $0 } + perRegistry).map { .file($0) }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, timeout: ConnectionTimeouts.configuration)
        configuration.httpVersion = .http1Only
        // A refused connection fails the request at once; `retrying` decides about retries (the
        // pool's own would retry until the connect timeout, 10 s per attempt).
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes the client's connections; call once, at the end.
    public func shutdown() async {
        try? await http.shutdown()
    }

    /// `GET`/`HEAD`/… of `path` (under `/v2/`), authenticated for `scope`
    /// (`repository:me/app:pull`). Returns the response whatever its status, except that a 401
    /// is answered once with the credentials the challenge asks for.
    func send(_ method: HTTPMethod, _ path: String, scope: String, headers: [(String, String)] = [],
              body: HTTPClientRequest.Body? = nil) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: endpoint.baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = body
        if let authorization = await tokens.authorization(for: scope) {
            request.headers.replaceOrAdd(name: "Authorization", value: authorization)
        }
        var response = try await execute(request)
        guard response.status == .unauthorized,
              let header = response.headers.first(name: "WWW-Authenticate"),
              let challenge = AuthChallenge.parse(header) else { return response }
        let authorization = try await authorize(challenge, scope: scope)
        await tokens.remember(authorization, for: scope)
        request.headers.replaceOrAdd(name: "Authorization", value: authorization)
        _ = try? await response.body.collect(upTo: 1 << 20)
        response = try await execute(request)
        return response
    }

    private func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        do {
            return try await http.execute(request, timeout: .hours(6))
        } catch let error as NIOSSLError {
            throw handshakeFailure(error)
        } catch {
            throw TransientFailure(description: "cannot reach registry \(endpoint.name): \(connectionFailure(error))")
        }
    }

    /// A failed TLS handshake, said as what to do about it: never retried, since a retry meets
    /// the same certificate (or the same plain-HTTP server).
    func handshakeFailure(_ error: NIOSSLError) -> RegistryError {
        let reason = Self.reason(of: error)
        if reason == "CERTIFICATE_VERIFY_FAILED" {
            return RegistryError(.rejected, "the TLS certificate of registry \(endpoint.name) is not trusted (\(reason)); "
                                     + "give its CA with --tls-ca FILE or as certs.d/\(endpoint.name)/ca.crt "
                                     + "(in /etc/berth or \(CredentialStore.configDirectory))")
        }
        return RegistryError(.rejected, "the TLS handshake with registry \(endpoint.name) failed (\(reason)); "
                                 + "if it speaks plain HTTP, name it with --insecure-registry \(endpoint.name)")
    }

    /// BoringSSL's reason for a failed handshake ("…:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED
    /// at file:line" gives `CERTIFICATE_VERIFY_FAILED`), or the whole text when it has none.
    static func reason(of error: NIOSSLError) -> String {
        let text = "\(error)"
        return text.firstRange(of: "OPENSSL_internal:").map { String(text[$0.upperBound...].prefix { $0.isLetter || $0 == "_" }) } ?? text
    }

    /// The Authorization header value for `challenge`: Basic from the stored credentials, or a
    /// Bearer token from the challenge's realm (with the credentials, when there are any).
    func authorize(_ challenge: AuthChallenge, scope: String) async throws -> String {
        switch challenge.scheme {
        case .basic:
            guard let credentials else {
                throw RegistryError(.rejected, "registry \(endpoint.name) asks for a user name and password; "
                                        + "run berth login \(endpoint.name) first")
            }
            return credentials.basicAuthorization
        case .bearer:
            guard let realm = challenge.realm else {
                throw RegistryError(.rejected, "registry \(endpoint.name) sent a Bearer challenge without a realm")
            }
            var query: [String] = []
            if let service = challenge.parameters["service"] { query.append("service=" + percentEncoded(service)) }
            query.append("scope=" + percentEncoded(challenge.parameters["scope"] ?? scope))
            var request = HTTPClientRequest(url: realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&"))
            if let credentials { request.headers.add(name: "Authorization", value: credentials.basicAuthorization) }
            let response = try await execute(request)
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw RegistryError(.rejected, "the token service of registry \(endpoint.name) refused a token for \(scope): "
                                        + "\(response.status.code) \(response.status.reasonPhrase)"
                                        + (credentials == nil ? " (no credentials: run berth login \(endpoint.name))" : ""))
            }
            guard case .object(let members) = try? JSON.parse(Array(buffer: body)),
                  let token = members.first(where: { $0.key == "token" || $0.key == "access_token" }),
                  case .string(let text) = token.value, !text.isEmpty else {
                throw RegistryError(.rejected, "the token service of registry \(endpoint.name) answered without a token")
            }
            return "Bearer " + text
        }
    }

    /// Checks the credentials against the registry's `/v2/`, as `login` does: the registry must
    /// answer 200 once its challenge is answered.
    public func checkLogin() async throws {
        try await retrying {
            let response = try await send(.GET, "/v2/", scope: "registry:catalog:*")
            _ = try? await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                if response.status.code >= 500 {
                    throw TransientFailure(description: "registry \(endpoint.name) failed: \(response.status.code)")
                }
                throw RegistryError(.rejected, "registry \(endpoint.name) refused the login: \(response.status.code) "
                                        + "\(response.status.reasonPhrase); nothing was stored")
            }
        }
    }

    /// Runs `body` up to `attempts` times while it fails transiently, waiting 0.25 s, 0.5 s,
    /// 1 s… between tries.
    func retrying<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let failure as TransientFailure {
                guard attempt < attempts else { throw RegistryError(.systemError, failure.description) }
                try await Task.sleep(nanoseconds: 250_000_000 << UInt64(attempt - 1))
                attempt += 1
            }
        }
    }

    /// A 4xx/5xx answer as an error: 5xx may pass (a retry), 4xx is said with what was asked for.
    func check(_ response: HTTPClientResponse, _ what: String) async throws {
        let status = response.status.code
        guard status >= 400 else { return }
        let body = (try? await response.body.collect(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
        if status >= 500 {
            throw TransientFailure(description: "registry \(endpoint.name) failed on \(what): \(status) \(response.status.reasonPhrase)")
        }
        let detail = Self.errorMessage(body).map { ": " + $0 } ?? ""
        switch status {
        case 401, 403:
            throw RegistryError(.rejected, "registry \(endpoint.name) refused access to \(what) (\(status)\(detail)); "
                                    + "check berth login \(endpoint.name)")
        case 404:
            throw RegistryError(.notFound, "registry \(endpoint.name) has no \(what) (404\(detail))")
        default:
            throw RegistryError(.rejected, "registry \(endpoint.name) refused \(what): \(status) \(response.status.reasonPhrase)\(detail)")
        }
    }

    /// The first message of the distribution spec's error body (`{"errors":[{"code","message"}]}`).
    static func errorMessage(_ body: String) -> String? {
        guard case .object(let members) = try? JSON.parse(Array(body.utf8)),
              let errors = members.first(where: { $0.key == "errors" }), case .array(let list) = errors.value,
              case .object(let first)? = list.first else { return nil }
        let code = first.first { $0.key == "code" }.flatMap { if case .string(let s) = $0.value { s } else { nil } }
        let message = first.first { $0.key == "message" }.flatMap { if case .string(let s) = $0.value { s } else { nil } }
        return [code, message].compactMap { $0 }.joined(separator: " ")
    }
}

/// Authorization values per scope, so that each repository's token is fetched once.
actor TokenCache {
    private var values: [String: String] = [:]

    func authorization(for scope: String) -> String? { values[scope] }

    func remember(_ value: String, for scope: String) { values[scope] = value }
}

/// RFC 3986's unreserved characters kept, every other byte as %XX.
func percentEncoded(_ text: String) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for byte in text.utf8 {
        let unreserved = (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
        if unreserved {
            out.append(byte)
        } else {
            out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
        }
    }
    return String(decoding: out, as: UTF8.self)
}
