/// Where a registry named in a reference is reached: Docker Hub's API host for `docker.io`, and
/// HTTPS unless the registry is on a loopback address or marked insecure.
public struct RegistryEndpoint: Sendable, Equatable {
    /// The registry as references name it (`localhost:5000`, `docker.io`).
    public let name: String
    /// `https://registry-1.docker.io`, `http://127.0.0.1:5000`.
    public let baseURL: String
    public let isPlainHTTP: Bool

    /// The API host behind `docker.io`.
    static let dockerHubAPI = "registry-1.docker.io"

    public init(registry name: String, insecureRegistries: [String] = []) {
        self.name = name
        let host = name == "docker.io" ? Self.dockerHubAPI : name
        isPlainHTTP = Self.isLoopback(name) || insecureRegistries.contains(name)
        baseURL = (isPlainHTTP ? "http://" : "https://") + host
    }

    /// `localhost`, `127.x.y.z` or `[::1]`, with or without a port: traffic that never leaves
    /// the machine, where Docker too speaks plain HTTP.
    static func isLoopback(_ registry: String) -> Bool {
        var host = Substring(registry)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            return host[host.index(after: host.startIndex)..<close] == "::1"
        }
        if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        if host == "localhost" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
