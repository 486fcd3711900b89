#if canImport(Glibc)
import Glibc
#endif

/// berth's own look at a new instance before HAProxy is told of it: `GET healthPath` straight
/// to the container's address, passing on a complete 2xx status line within the timeout.
enum HealthProbe {
    static func passes(address: String, port: Int, path: String, timeoutMilliseconds: Int) -> Bool {
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        guard inet_pton(AF_INET, address, &target.sin_addr) == 1 else { return false }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let deadline = Clock.now + Int64(timeoutMilliseconds)
        let rc = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 || errno == EINPROGRESS, wait(fd, for: Int16(POLLOUT), until: deadline) else { return false }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else { return false }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return false }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        // The status line is enough: "HTTP/1.1 200".
        while answer.count < 12 {
            guard wait(fd, for: Int16(POLLIN), until: deadline) else { return false }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR || errno == EAGAIN { continue }
            guard n > 0 else { return false }
            answer += buffer[0..<n]
        }
        let status = String(decoding: answer.prefix(12), as: UTF8.self)
        return status.hasPrefix("HTTP/1.") && status.dropFirst(9).hasPrefix("2")
    }

    private static func wait(_ fd: Int32, for events: Int16, until deadline: Int64) -> Bool {
        while true {
            let left = deadline - Clock.now
            guard left > 0 else { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&entry, 1, Int32(left))
            if n < 0, errno == EINTR { continue }
            return n > 0
        }
    }
}
