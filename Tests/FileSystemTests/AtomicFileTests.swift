import FileSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Atomic replace") struct AtomicFileTests {
    struct Planned: Error {}

    @Test(arguments: [AtomicFile.Durability.none, .contents, .full])
    func replacesAndLeavesNoTemporaryFile(durability: AtomicFile.Durability) throws {
        let scratch = try Scratch()
        let file = scratch.path + "/config.json"
        try AtomicFile.replace(file, with: Array("old".utf8), durability: durability)
        #expect(scratch.read("config.json") == "old")
        try AtomicFile.replace(file, with: Array("new".utf8), mode: 0o600, durability: durability)
        #expect(scratch.read("config.json") == "new")
        #expect(try scratch.names() == ["config.json"])
        var st = stat()
        #expect(stat(file, &st) == 0 && st.st_mode & 0o777 == 0o600)
    }

    @Test func aRelativePathIsReplacedWhereItIs() throws {
        let scratch = try Scratch()
        try scratch.write("sub/file", "old")
        let cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { _ = fchdir(cwd); close(cwd) }
        #expect(chdir(scratch.path) == 0)
        try AtomicFile.replace("sub/file", with: Array("new".utf8), durable: false)
        try AtomicFile.replace("sub/file", with: Array("newer".utf8), durable: true)
        #expect(scratch.read("sub/file") == "newer")
        #expect(try scratch.names("sub") == ["file"])
    }

    @Test func aFailedWriteLeavesTheOldContentAndNoTemporaryFile() throws {
        let scratch = try Scratch()
        try scratch.write("record", "old")
        #expect(throws: Planned.self) {
            try AtomicFile.replace(scratch.path + "/record", durability: .full) { fd, temp in
                // Half of the new content is on disk when the writer fails.
                try FileIO.writeAll(fd, Array("ne".utf8), path: temp)
                throw Planned()
            }
        }
        #expect(scratch.read("record") == "old")
        #expect(try scratch.names() == ["record"])
    }

    @Test func aFailedRenameLeavesNoTemporaryFile() throws {
        let scratch = try Scratch()
        // A non-empty directory cannot be renamed over.
        try scratch.write("target/inside", "x")
        let error = #expect(throws: FileSystemError.self) {
            try AtomicFile.replace(scratch.path + "/target", with: Array("new".utf8), durable: true)
        }
        #expect(error?.call == "rename")
        #expect(try scratch.names() == ["target"])
        #expect(scratch.read("target/inside") == "x")
    }

    @Test func aMissingDirectoryIsENOENT() throws {
        let scratch = try Scratch()
        for durable in [false, true] {
            let error = #expect(throws: FileSystemError.self) {
                try AtomicFile.replace(scratch.path + "/gone/file", with: [1], durable: durable)
            }
            #expect(error?.errno == ENOENT)
        }
    }
}

@Suite("Directories and whole-file I/O") struct DirectoryTests {
    @Test func makeCreatesEveryMissingComponentWithItsMode() throws {
        let scratch = try Scratch()
        try Directory.make(scratch.path + "/a/b/c", mode: 0o700)
        try Directory.make(scratch.path + "/a/b/c", mode: 0o700)
        var st = stat()
        #expect(stat(scratch.path + "/a/b/c", &st) == 0 && st.st_mode & S_IFMT == S_IFDIR && st.st_mode & 0o777 == 0o700)
        try scratch.write("file", "x")
        let error = #expect(throws: FileSystemError.self) { try Directory.make(scratch.path + "/file/sub") }
        #expect(error?.call == "mkdir" && error?.errno == ENOTDIR)
    }

    @Test func listingIsSortedAndSkipsDotEntries() throws {
        let scratch = try Scratch()
        for name in ["b", "a", ".hidden", "c"] { try scratch.write(name, name) }
        #expect(try scratch.names() == [".hidden", "a", "b", "c"])
        let fd = open(scratch.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(fd) }
        let expected: [[UInt8]] = [Array(".hidden".utf8), Array("a".utf8), Array("b".utf8), Array("c".utf8)]
        #expect(try Directory.names(fd, path: scratch.path) == expected)
        // A second listing of the same fd starts from the top again.
        #expect(try Directory.names(fd, path: scratch.path) == expected)
        #expect(throws: FileSystemError.self) { try Directory.names(atPath: scratch.path + "/missing") }
    }

    @Test func readAndWriteWholeFiles() throws {
        let scratch = try Scratch()
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let fd = open(scratch.path + "/big", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        try FileIO.writeAll(fd, big, path: "big")
        try big.withUnsafeBytes { buffer in
            try FileIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<10]), at: 1_000_000, path: "big")
        }
        close(fd)
        let read = try FileIO.readFile(scratch.path + "/big")
        #expect(read.count == 1_000_010)
        #expect(Array(read[0..<big.count]) == big)
        #expect(Array(read[1_000_000...]) == Array(big[0..<10]))
        let error = #expect(throws: FileSystemError.self) { try FileIO.readFile(scratch.path + "/missing") }
        #expect(error?.call == "open" && error?.errno == ENOENT)
        #expect(symlink("target-id", scratch.path + "/link") == 0)
        #expect(FileIO.readLink(scratch.path + "/link") == "target-id")
        #expect(FileIO.readLink(scratch.path + "/big") == nil)
    }
}
