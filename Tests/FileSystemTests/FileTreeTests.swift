import FileSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Tree removal") struct FileTreeTests {
    @Test func removesAFileATreeAndNothingWhenMissing() throws {
        let scratch = try Scratch()
        try scratch.write("file", "x")
        try scratch.write("tree/a/b/file", "x")
        try scratch.write("tree/a/other", "x")
        #expect(mkfifo(scratch.path + "/tree/fifo", 0o600) == 0)
        try FileTree.remove(scratch.path + "/file")
        try FileTree.remove(scratch.path + "/tree/")
        try FileTree.remove(scratch.path + "/missing")
        try FileTree.remove(scratch.path + "/missing/below")
        #expect(try scratch.names() == [])
    }

    /// 2000 levels: far more than the walk keeps open (so most levels are found again through
    /// `..`), and a path longer than PATH_MAX, which a walk by paths could not even name.
    @Test func removesADeepTree() throws {
        let scratch = try Scratch()
        let depth = 2000
        var fd = open(scratch.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(fd >= 0)
        for _ in 0..<depth {
            #expect(mkdirat(fd, "dir", 0o755) == 0)
            close(openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644))
            let next = openat(fd, "dir", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            close(fd)
            fd = next
            try #require(fd >= 0)
        }
        close(fd)
        try FileTree.remove(scratch.path + "/dir")
        #expect(try scratch.names() == ["f"])
    }

    /// Directories we may not write, search or read (a `chmod -R a-w` tree, overlay's work/work
    /// at 0o000). As root these are no obstacle; as a user, FileTree gives them u+rwx first.
    @Test func removesDirectoriesWithoutPermissions() throws {
        let scratch = try Scratch()
        for (dir, mode) in [("readonly", 0o555), ("noexec", 0o600), ("noread", 0o300), ("none", 0o000)] as [(String, mode_t)] {
            try scratch.write("tree/\(dir)/sub/file", "x")
            try scratch.write("tree/\(dir)/file", "x", mode: 0o400)
            #expect(chmod(scratch.path + "/tree/\(dir)/sub", mode) == 0)
            #expect(chmod(scratch.path + "/tree/\(dir)", mode) == 0)
        }
        #expect(chmod(scratch.path + "/tree", 0o555) == 0)
        try FileTree.remove(scratch.path + "/tree")
        #expect(try scratch.names() == [])
    }

    @Test func doesNotFollowSymlinksPlantedInTheTree() throws {
        let scratch = try Scratch()
        try scratch.write("outside/keep", "precious")
        try scratch.write("outside/dir/keep", "precious")
        try scratch.write("tree/dir/file", "x")
        #expect(symlink(scratch.path + "/outside", scratch.path + "/tree/to-dir") == 0)
        #expect(symlink(scratch.path + "/outside/keep", scratch.path + "/tree/dir/to-file") == 0)
        #expect(symlink("../../outside/dir", scratch.path + "/tree/dir/relative") == 0)
        #expect(symlink("/", scratch.path + "/tree/root") == 0)
        try FileTree.remove(scratch.path + "/tree")
        #expect(!scratch.exists("tree"))
        #expect(scratch.read("outside/keep") == "precious")
        #expect(scratch.read("outside/dir/keep") == "precious")
        // The top itself a link: the link goes, not what it points at.
        #expect(symlink(scratch.path + "/outside", scratch.path + "/link") == 0)
        try FileTree.remove(scratch.path + "/link")
        #expect(try scratch.names() == ["outside"])
        #expect(scratch.read("outside/dir/keep") == "precious")
    }

    @Test func removesByNameInsideADirectoryFd() throws {
        let scratch = try Scratch()
        try scratch.write("tree/a/file", "x")
        let parent = open(scratch.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(parent) }
        try FileTree.remove(Array("tree".utf8), in: parent, path: "tree")
        try FileTree.remove(Array("tree".utf8), in: parent, path: "tree")
        #expect(try scratch.names() == [])
    }

    @Test func refusesTheRootAndDotNames() throws {
        for path in ["/", ".", "..", "/tmp/.."] {
            let error = #expect(throws: FileSystemError.self) { try FileTree.remove(path) }
            #expect(error?.errno == EINVAL)
        }
    }

    /// A filesystem mounted inside the tree is neither entered nor emptied: it stays, and the
    /// removal reports EBUSY for it after removing everything else.
    @Test(.enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
    func leavesMountPointsAlone() throws {
        let scratch = try Scratch()
        try scratch.write("tree/mnt/.keep", "")
        try scratch.write("tree/other/file", "x")
        let mountPoint = scratch.path + "/tree/mnt"
        try #require(mount("tmpfs", mountPoint, "tmpfs", 0, nil) == 0)
        defer { umount2(mountPoint, Int32(MNT_DETACH)) }
        try scratch.write("tree/mnt/inside", "kept")
        let error = #expect(throws: FileSystemError.self) { try FileTree.remove(scratch.path + "/tree") }
        #expect(error?.errno == EBUSY)
        #expect(error?.path == mountPoint)
        #expect(scratch.read("tree/mnt/inside") == "kept")
        #expect(try scratch.names("tree") == ["mnt"])
        // The top itself a mount point: not emptied either.
        let error2 = #expect(throws: FileSystemError.self) { try FileTree.remove(mountPoint) }
        #expect(error2?.errno == EBUSY)
        #expect(scratch.read("tree/mnt/inside") == "kept")
    }

    /// A bind mount of the same filesystem has the same st_dev: the mount id tells it apart.
    @Test(.enabled(if: geteuid() == 0, "bind mounting needs root"))
    func leavesBindMountsOfTheSameFilesystemAlone() throws {
        let scratch = try Scratch()
        try scratch.write("outside/keep", "precious")
        try scratch.write("tree/bind/.keep", "")
        let mountPoint = scratch.path + "/tree/bind"
        try #require(mount(scratch.path + "/outside", mountPoint, nil, UInt(MS_BIND), nil) == 0)
        defer { umount2(mountPoint, Int32(MNT_DETACH)) }
        #expect(throws: FileSystemError.self) { try FileTree.remove(scratch.path + "/tree") }
        #expect(scratch.read("outside/keep") == "precious")
    }
}
