import AsyncHTTPClient
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

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
        return "no connection within 10 s"
    case let http as HTTPClientError where http == .connectTimeout:
        return "no connection within 10 s"
    case let http as HTTPClientError where http == .readTimeout:
        return "no answer within 60 s"
    case let http as HTTPClientError where http == .remoteConnectionClosed:
        return "the server closed the connection"
    default:
        return "\(error)"
    }
}
