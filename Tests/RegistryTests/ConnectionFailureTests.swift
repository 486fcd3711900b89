import NIOCore
@testable import Registry
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A failed connection as the clause that ends a registry's or a download's error sentence.
@Suite("Connection failures")
struct ConnectionFailureTests {
    @Test("a system error is said as strerror says it, a timeout with its limit")
    func said() {
        #expect(connectionFailure(IOError(errnoCode: ECONNREFUSED, reason: "connect")) == "Connection refused")
        #expect(connectionFailure(IOError(errnoCode: EHOSTUNREACH, reason: "connect")) == "No route to host")
        #expect(connectionFailure(ChannelError.connectTimeout(.seconds(10))) == "no connection within 10 s")
    }
}
