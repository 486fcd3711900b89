// A ByteBufferAllocator with functions of our own is NIO's SPI (2.101): the one way to have a
// ByteBuffer's storage in our slabs without copying every chunk into it.
@_spi(CustomByteBufferAllocator) import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The memory a push reads its blobs into: a fixed set of slabs, mapped once, that the upload
/// bodies take one at a time and NIO gives back when it has sent one (a `ByteBufferAllocator`
/// whose deallocation returns the slab). A reader waits while every slab is out, so the slabs
/// are also the backpressure across the parallel uploads.
///
/// Why not malloc: a push's buffers are large, short-lived and freed on another thread (NIO's
/// event loop) than the one that filled them (the concurrency pool's). glibc serves such
/// blocks from per-thread arenas once its dynamic mmap threshold has risen past them, and the
/// arenas keep what they grow to: the 200 MiB benchmark push peaked at 44-60 MiB with 1 MiB
/// malloc'd buffers (28 MiB with the threshold pinned, at nearly twice the time), against 16.5
/// MiB for a push with nothing to upload; with the slabs, 18.4 MiB (Benchmarks/README.md).
final class UploadBuffers: Sendable {
    /// Bytes per slab: a read and a socket write each (160 per 40 MiB layer).
    static let slabSize = 256 << 10
    /// Slabs in all: a few per upload of `ImagePusher.parallelBlobs`, one being filled while
    /// others wait in a socket's queue.
    static let slabCount = 8

    /// The process's one set (the allocator's C callbacks cannot carry a context), mapped on the
    /// first upload, or the reason it could not be.
    static let shared = Result { try UploadBuffers() }

    /// Where the slabs start, as an address (a raw pointer is not Sendable).
    private let base: UInt
    private let state: Mutex<State>

    private struct State {
        /// Slabs no buffer holds.
        var free: [Int]
        /// Free slabs no reader has claimed yet.
        var unclaimed: Int
        /// Readers waiting for a slab, first come first served.
        var waiting: [CheckedContinuation<Void, Never>] = []

        /// Takes one free slab for the caller, if one is unclaimed.
        mutating func claim() -> Bool {
            guard unclaimed > 0 else { return false }
            unclaimed -= 1
            return true
        }
    }

    private init() throws(RegistryError) {
        let bytes = Self.slabSize * Self.slabCount
        let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw RegistryError(.systemError, "cannot map \(bytes >> 10) KiB of upload buffers", errno: errno)
        }
        base = UInt(bitPattern: mapped)
        state = Mutex(State(free: Array(0..<Self.slabCount), unclaimed: Self.slabCount))
    }

    /// A buffer of up to `slabSize` bytes in a slab, once one is free.
    func buffer(capacity: Int) async -> ByteBuffer {
        precondition(capacity > 0 && capacity <= Self.slabSize, "an upload buffer holds 1 to \(Self.slabSize) bytes")
        if !state.withLock({ $0.claim() }) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let claimed = state.withLock { state in
                    if state.claim() { return true }
                    state.waiting.append(continuation)
                    return false
                }
                if claimed { continuation.resume() }
            }
        }
        // The claim guarantees a free slab for this allocation (the allocator runs on this thread,
        // now, for the capacity rounded up to a power of two, which the slab size is).
        return Self.allocator.buffer(capacity: capacity)
    }

    /// A slab for `size` bytes, or malloc's memory for an allocation nobody claimed a slab for
    /// (a copy NIO would make of a buffer) when none is free.
    fileprivate func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        let slab = size <= Self.slabSize ? state.withLock { $0.free.popLast() } : nil
        guard let slab else { return malloc(size) }
        return UnsafeMutableRawPointer(bitPattern: base + UInt(slab * Self.slabSize))
    }

    /// Takes a slab back and hands it to the first waiting reader; malloc's memory is freed.
    fileprivate func deallocate(_ pointer: UnsafeMutableRawPointer) {
        guard let slab = slab(at: pointer) else {
            free(pointer)
            return
        }
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.free.append(slab)
            guard !state.waiting.isEmpty else {
                state.unclaimed += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }

    /// A buffer grown past a slab (which berth's bodies never are) moves to malloc's memory.
    fileprivate func reallocate(_ pointer: UnsafeMutableRawPointer?, from old: Int, to size: Int) -> UnsafeMutableRawPointer? {
        guard let pointer else { return allocate(size) }
        guard slab(at: pointer) != nil else { return realloc(pointer, size) }
        if size <= Self.slabSize { return pointer }
        guard let grown = malloc(size) else { return nil }
        grown.copyMemory(from: pointer, byteCount: min(old, size))
        deallocate(pointer)
        return grown
    }

    /// The slab `pointer` lies in, if it is one of ours.
    func slab(at pointer: UnsafeRawPointer) -> Int? {
        let address = UInt(bitPattern: pointer)
        guard address >= base, address < base + UInt(Self.slabSize * Self.slabCount) else { return nil }
        return Int(address - base) / Self.slabSize
    }

    /// Readers waiting for a slab now.
    var waitingReaders: Int { state.withLock { $0.waiting.count } }

    /// `ByteBuffer`s whose storage comes from `shared`'s slabs.
    private static let allocator = ByteBufferAllocator(
        allocate: { size in UploadBuffers.slabs?.allocate(size) ?? malloc(size) },
        reallocate: { pointer, old, size in
            UploadBuffers.slabs?.reallocate(pointer, from: old, to: size) ?? realloc(pointer, size)
        },
        deallocate: { pointer in
            if let slabs = UploadBuffers.slabs { slabs.deallocate(pointer) } else { free(pointer) }
        },
        copy: { destination, source, count in destination.copyMemory(from: source, byteCount: count) })

    private static var slabs: UploadBuffers? { try? shared.get() }
}
