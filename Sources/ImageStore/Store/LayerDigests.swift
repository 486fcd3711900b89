#if canImport(Glibc)
import Glibc
#endif

/// The two digests of a layer stream, computed as the stream passes through a `LayerPacker` or
/// `LayerUnpacker`: the blob digest (stored bytes) and the diff_id (uncompressed tar).
///
/// Threads: when the packer compresses, `stored` runs on its compressor thread while
/// `uncompressed` runs on the caller's, so each closure owns its own digester and nothing else.
/// Read the results only after pack or unpack has returned: the packer joins its compressor
/// thread before returning, which orders the thread's writes before the caller's reads.
final class LayerDigests {
    private var stored = Digester()
    private var uncompressed = Digester()

    var observer: LayerStreamObserver {
        LayerStreamObserver(stored: { [self] in stored.update($0) },
                            uncompressed: { [self] in uncompressed.update($0) })
    }

    func storedDigest() -> Digest { stored.finalize() }
    func uncompressedDigest() -> Digest { uncompressed.finalize() }

    /// Feeds what remains of `fd` to the stored digest (after an unpack that stopped early).
    func drainStored(_ fd: Int32, path: String) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImageStoreError(.systemError, "cannot read \(path)", errno: errno)
            }
            if n == 0 { return }
            buffer.withUnsafeBytes { stored.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}
