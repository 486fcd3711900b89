import NIOCore
@testable import Registry
import Testing

/// The push's upload buffers: a fixed set of slabs, handed out while free, waited for while not.
@Suite("Upload buffers", .serialized)
struct UploadBuffersTests {
    /// The slab a buffer's storage starts in, if it is one.
    static func slab(of buffer: ByteBuffer, in buffers: UploadBuffers) -> Int? {
        buffer.withVeryUnsafeBytes { bytes in bytes.baseAddress.flatMap { buffers.slab(at: $0) } }
    }

    @Test("every slab out: the next reader waits, and gets the slab the first buffer given back held")
    func waitsForAFreeSlab() async throws {
        let buffers = try UploadBuffers.shared.get()
        var held: [ByteBuffer] = []
        for _ in 0..<UploadBuffers.slabCount {
            held.append(await buffers.buffer(capacity: UploadBuffers.slabSize))
        }
        let slabs = held.compactMap { Self.slab(of: $0, in: buffers) }
        #expect(Set(slabs).count == UploadBuffers.slabCount, "each buffer in a slab of its own: \(slabs)")

        let next = Task { await buffers.buffer(capacity: 1000) }
        let deadline = ContinuousClock.now + .seconds(10)
        while buffers.waitingReaders == 0, ContinuousClock.now < deadline {
            await Task.yield()
        }
        try #require(buffers.waitingReaders == 1, "the ninth reader waits while every slab is out")

        let returned = try #require(Self.slab(of: held.removeLast(), in: buffers))
        let got = await next.value
        #expect(Self.slab(of: got, in: buffers) == returned)
        #expect(buffers.waitingReaders == 0)
    }

    @Test("a copy of a slab's buffer while none is free is malloc's memory, and the slabs stay whole")
    func copiesOutsideTheSlabs() async throws {
        let buffers = try UploadBuffers.shared.get()
        var held: [ByteBuffer] = []
        for _ in 0..<UploadBuffers.slabCount {
            var buffer = await buffers.buffer(capacity: 4096)
            buffer.writeString("slab")
            held.append(buffer)
        }
        var copy = held[0]
        copy.writeString(" and more")
        #expect(Self.slab(of: copy, in: buffers) == nil, "no slab was free for the copy")
        #expect(copy.readString(length: copy.readableBytes) == "slab and more")
        #expect(held[0].getString(at: 0, length: held[0].readableBytes) == "slab")
        held.removeAll()
        // All slabs back: as many buffers as slabs again, each in a slab.
        for _ in 0..<UploadBuffers.slabCount {
            held.append(await buffers.buffer(capacity: 4096))
        }
        #expect(held.allSatisfy { Self.slab(of: $0, in: buffers) != nil })
    }
}
