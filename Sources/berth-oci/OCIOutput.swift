#if canImport(Glibc)
import Glibc
#endif

/// berth-oci's output: whole lines to an fd, retried on EINTR.
enum OCIOutput {
    static func writeLine(_ fd: Int32, _ text: String) {
        write(fd, text + "\n")
    }

    static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + offset }, bytes.count - offset) }
            if n < 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }
}
