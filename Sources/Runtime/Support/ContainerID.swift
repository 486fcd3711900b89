import CSpawn
import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// Container ids: 64 random hex characters, shown as 12 (Docker's form).
public enum ContainerID {
    public static func generate() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        // getrandom only fails before the pool is initialised at early boot; even then the
        // bytes need to be unique, not secret, so the clock and pid stand in.
        if bytes.withUnsafeMutableBytes({ berth_random_bytes($0.baseAddress, 32) }) != 0 {
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: ts.tv_nsec >> (i * 8)) }
            for i in 0..<4 { bytes[8 + i] = UInt8(truncatingIfNeeded: getpid() >> (i * 8)) }
        }
        return Hex.encode(bytes)
    }
}
