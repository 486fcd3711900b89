import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A range of a file as an async sequence of buffers in `UploadBuffers`' slabs, an upload's
/// body: read as the request is sent, and only while a slab is free, so memory does not grow
/// with the blob nor with the uploads running at once. The file descriptor stays the caller's.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let fd: Int32
    let offset: Int64
    let length: Int64
    let path: String

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunks: FileChunks
        var position: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            guard position < chunks.length else { return nil }
            let size = Int(Swift.min(Int64(UploadBuffers.slabSize), chunks.length - position))
            var buffer = try await UploadBuffers.shared.get().buffer(capacity: size)
            var failure: Int32 = 0
            let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { bytes in
                let read = pread(chunks.fd, bytes.baseAddress, size, off_t(chunks.offset + position))
                if read < 0 { failure = errno }
                return Swift.max(0, read)
            }
            guard n > 0 else {
                throw RegistryError(.systemError, "cannot read \(chunks.path) for upload", errno: failure == 0 ? EIO : failure)
            }
            position += Int64(n)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: self) }
}
