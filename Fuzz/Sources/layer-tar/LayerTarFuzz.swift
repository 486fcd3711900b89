import FuzzSupport
import ImageStore
#if canImport(Glibc)
import Glibc
#endif

/// A layer blob, through libarchive's readers (decompression, tar, pax and GNU headers) and the
/// unpacker that writes its entries: either a LayerError, or an unpacked layer whose counts cover
/// every byte of the blob. Either way nothing is written outside the layer directory: a sibling
/// directory that hostile names and links aim at (`../outside`, a symlink to it) stays empty.
///
/// Runs as the caller; devices are refused and ownership is not kept, so a run as root makes no
/// device nodes and no files of other users.
@main
enum LayerTarFuzz {
    static func main() { runFuzzer(testOneInput) }
}

/// `<tmp>/layer` is unpacked into and removed after each input; `<tmp>/outside` must stay empty.
private let workspace: String = {
    var template = Array("\(String(cString: getenv("TMPDIR") ?? strdup("/tmp")))/berth-fuzz-tar.XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed: errno \(errno)") }
    let path = String(cString: made)
    guard mkdir(path + "/outside", 0o755) == 0 else { fatalError("mkdir \(path)/outside failed: errno \(errno)") }
    return path
}()

private let unpacker = LayerUnpacker(options: .init(allowDevices: false, preserveOwnership: false,
                                                    overlayXattrPrefix: "user.overlay."))

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let layer = workspace + "/layer"
    guard mkdir(layer, 0o755) == 0 else { fatalError("mkdir \(layer) failed: errno \(errno)") }
    defer { removeTree(layer) }
    let blob = open(workspace + "/blob", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard blob >= 0 else { fatalError("cannot create \(workspace)/blob: errno \(errno)") }
    defer { close(blob) }
    let written = input.bytes.withUnsafeBytes { write(blob, $0.baseAddress, $0.count) }
    guard written == input.bytes.count, lseek(blob, 0, SEEK_SET) == 0 else { fatalError("cannot write the blob") }

    var storedSeen = 0, uncompressedSeen = 0
    let observer = LayerStreamObserver(stored: { storedSeen += $0.count }, uncompressed: { uncompressedSeen += $0.count })
    do {
        let result = try unpacker.unpack(from: blob, into: layer, observer: observer)
        check(result.storedBytes == Int64(input.bytes.count), "stored bytes \(result.storedBytes) of \(input.bytes.count)", input)
        check(Int64(storedSeen) == result.storedBytes, "the observer saw \(storedSeen) stored bytes", input)
        check(Int64(uncompressedSeen) == result.uncompressedBytes, "the observer saw \(uncompressedSeen) uncompressed bytes", input)
        if result.compression == .none {
            check(result.uncompressedBytes == result.storedBytes, "an uncompressed blob is its own tar", input)
        }
    } catch {
        check(!error.message.isEmpty, "a refusal says why", input)
    }
    check(names(in: workspace + "/outside").isEmpty, "an entry was written outside the layer: \(names(in: workspace + "/outside"))", input)
    check(names(in: workspace).sorted() == ["blob", "layer", "outside"], "the workspace holds \(names(in: workspace))", input)
    return 0
}

/// The names in a directory, as bytes (a layer's names need not be UTF-8).
private func names(_ fd: Int32) -> [[CChar]] {
    let copy = dup(fd)
    guard copy >= 0, let dir = fdopendir(copy) else { return [] }
    defer { closedir(dir) }
    var result: [[CChar]] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            Array(raw.bindMemory(to: CChar.self).prefix { $0 != 0 }) + [0]
        }
        if name != [46, 0] && name != [46, 46, 0] { result.append(name) }
    }
    return result
}

private func names(in directory: String) -> [String] {
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    return names(fd).map { String(decoding: $0.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self) }
}

/// rm -rf that never follows a link, by names as bytes under directory fds; a directory an entry
/// made 000 is opened up first.
private func removeTree(_ path: String) {
    let parent = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    defer { close(parent) }
    removeEntry(parent, Array(path.utf8CString))
}

private func display(_ name: [CChar]) -> String {
    String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

private func removeEntry(_ parent: Int32, _ name: [CChar]) {
    var st = stat()
    guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
    if st.st_mode & S_IFMT == S_IFDIR {
        _ = fchmodat(parent, name, 0o700, 0)
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { fatalError("cannot open \(display(name)) to remove it: errno \(errno)") }
        for child in names(fd) { removeEntry(fd, child) }
        close(fd)
        guard unlinkat(parent, name, AT_REMOVEDIR) == 0 else { fatalError("cannot remove \(display(name)): errno \(errno)") }
    } else {
        guard unlinkat(parent, name, 0) == 0 else { fatalError("cannot remove \(display(name)): errno \(errno)") }
    }
}
