/// Sees every byte of a layer stream as it passes, for the store to hash without a second pass.
///
/// A layer has two digests: the blob digest (of the bytes as stored, usually gzip) and the diff_id
/// (of the uncompressed tar). Computing them is the store's job; the unpacker and packer only show
/// both streams, in order, exactly once. The buffers are valid only during the call.
///
/// Threads: each closure is called from one thread at a time, in stream order. When the packer
/// compresses, `stored` runs on its compressor thread while `uncompressed` runs on the caller's,
/// so the two may run at the same time: give each its own hasher.
public struct LayerStreamObserver {
    /// The bytes as read from or written to the fd (compressed, or the tar itself when uncompressed).
    public var stored: ((UnsafeRawBufferPointer) -> Void)?
    /// The uncompressed tar bytes, including the end-of-archive blocks and any padding after them.
    public var uncompressed: ((UnsafeRawBufferPointer) -> Void)?

    public init(stored: ((UnsafeRawBufferPointer) -> Void)? = nil,
                uncompressed: ((UnsafeRawBufferPointer) -> Void)? = nil) {
        self.stored = stored
        self.uncompressed = uncompressed
    }
}
