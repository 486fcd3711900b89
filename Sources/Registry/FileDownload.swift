import AsyncHTTPClient
import FileSystem
import ImageStore
import NIOCore
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// A file fetched over HTTP or HTTPS.
public struct DownloadedFile: Sendable {
    public let size: Int64
    public let digest: Digest
    /// The server's `Last-Modified`, in seconds since the epoch, when it sent one.
    public let lastModified: Int?
}

/// Plain downloads, not from a registry: what a Dockerfile's `ADD https://…` fetches.
public enum FileDownload {
    /// Streams `url` into a new file at `path` (mode 0600) while it is hashed, so memory does
    /// not grow with the file, following up to 5 redirects. TLS trusts the system's CAs. A
    /// status other than 2xx, or a connection that fails, is an error that names the URL; the
    /// file is removed then.
    public static func fetch(_ url: String, to path: String) throws -> DownloadedFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RegistryError(.systemError, "cannot create \(path)", errno: errno) }
        do {
            defer { close(fd) }
            let file = try waitFor { try await download(url, into: fd, path: path) }
            if let seconds = file.lastModified {
                var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
                _ = futimens(fd, &times)
            }
            return file
        } catch {
            unlink(path)
            throw error
        }
    }

    private static func download(_ url: String, into fd: Int32, path: String) async throws -> DownloadedFile {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: TLSConfiguration.makeClientConfiguration(),
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: ConnectionTimeouts.configuration)
        // A refused connection fails at once, not after the pool's retries for the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let file = try await download(url, with: http, into: fd, path: path)
            try? await http.shutdown()
            return file
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    private static func download(_ url: String, with http: HTTPClient, into fd: Int32, path: String) async throws -> DownloadedFile {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(ConnectionTimeouts.readSeconds))
        } catch let error as NIOSSLError {
            let reason = RegistryClient.reason(of: error)
            throw RegistryError(.rejected, reason == "CERTIFICATE_VERIFY_FAILED"
                                ? "cannot download \(url): its TLS certificate is not trusted by this machine's CAs (\(reason))"
                                : "cannot download \(url): the TLS handshake failed (\(reason))")
        } catch {
            throw RegistryError(.systemError, "cannot download \(url): \(connectionFailure(error))")
        }
        guard (200..<300).contains(response.status.code) else {
            throw RegistryError(response.status.code == 404 ? .notFound : .rejected,
                                "cannot download \(url): the server answered \(response.status.code) \(response.status.reasonPhrase)")
        }
        var digester = Digester()
        do {
            for try await chunk in response.body {
                try chunk.withUnsafeReadableBytes { bytes in
                    try FileIO.writeAll(fd, bytes, path: path)
                    digester.update(bytes)
                }
            }
        } catch let error as FileSystemError {
            throw RegistryError(.systemError, "cannot write \(path)", errno: error.errno)
        } catch {
            throw RegistryError(.systemError, "the download of \(url) broke off after \(digester.count) bytes (\(error))")
        }
        if let length = response.headers.first(name: "Content-Length").flatMap({ Int64($0) }), length != digester.count {
            throw RegistryError(.systemError, "the download of \(url) ended after \(digester.count) of \(length) bytes")
        }
        return DownloadedFile(size: digester.count, digest: digester.finalize(),
                              lastModified: response.headers.first(name: "Last-Modified").flatMap(httpDate))
    }

    /// An HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`, RFC 9110's preferred form) in seconds
    /// since the epoch; nil for another form.
    static func httpDate(_ text: String) -> Int? {
        let fields = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard fields.count == 6, fields[0].hasSuffix(","), fields[5] == "GMT",
              let day = Int32(fields[1]), let month = months.firstIndex(of: String(fields[2])), let year = Int32(fields[3])
        else { return nil }
        let clock = fields[4].split(separator: ":").compactMap { Int32($0) }
        guard clock.count == 3, (1...31).contains(day), (0...23).contains(clock[0]), (0...59).contains(clock[1]),
              (0...60).contains(clock[2]) else { return nil }
        var time = tm()
        time.tm_year = year - 1900
        time.tm_mon = Int32(month)
        time.tm_mday = day
        time.tm_hour = clock[0]
        time.tm_min = clock[1]
        time.tm_sec = clock[2]
        return Int(timegm(&time))
    }
}
