import AsyncHTTPClient
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The timeouts of every HTTP client here (the registry's and a download's), in seconds: the
/// sentences below name them.
enum ConnectionTimeouts {
    static let connectSeconds: Int64 = 10
    static let readSeconds: Int64 = 60

    static var configuration: HTTPClient.Configuration.Timeout {
        .init(connect: .seconds(connectSeconds), read: .seconds(readSeconds))
    }
}

/// What went wrong with a connection, said as the system says it ("Connection refused",
/// "No route to host") rather than as NIO nests it (a `NIOConnectionError` holding an `IOError`
/// per address tried): the one clause a registry's or a download's error sentence ends with.
func connectionFailure(_ error: any Error) -> String {
    switch error {
    case let io as IOError:
        return String(cString: strerror(io.errnoCode))
    case let connection as NIOConnectionError:
        // Every address tried failed; the first says why as well as any.
        if let first = connection.connectionErrors.first { return connectionFailure(first.error) }
        if connection.dnsAError != nil || connection.dnsAAAAError != nil { return "cannot resolve \(connection.host)" }
        return "no address of \(connection.host) answered"
    case ChannelError.connectTimeout:
        return "no connection within \(ConnectionTimeouts.connectSeconds) s"
    case let http as HTTPClientError where http == .connectTimeout:
        return "no connection within \(ConnectionTimeouts.connectSeconds) s"
    case let http as HTTPClientError where http == .readTimeout:
        return "no answer within \(ConnectionTimeouts.readSeconds) s"
    case let http as HTTPClientError where http == .remoteConnectionClosed:
        return "the server closed the connection"
    default:
        return "\(error)"
    }
}
