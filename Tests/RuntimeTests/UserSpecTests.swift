import Foundation
import Testing
import Runtime
import CFileSystem

/// A temporary directory removed when the value goes away; `write` creates parent directories.
final class TemporaryDirectory {
    let path: String

    init(_ prefix: String = "berth-ut") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ contents: String) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try contents.write(toFile: full, atomically: false, encoding: .utf8)
    }

    func symlink(_ relative: String, to destination: String) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: destination)
    }

    func exists(_ relative: String) -> Bool {
        var st = stat()
        return lstat(path + "/" + relative, &st) == 0
    }

    func read(_ relative: String) -> String? {
        try? String(contentsOfFile: path + "/" + relative, encoding: .utf8)
    }
}

/// `-u user[:group]` against the container's own /etc/passwd and /etc/group.
@Suite("User spec") struct UserSpecTests {
    static let passwd = """
        root:x:0:0:root:/root:/bin/sh
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

        alice:x:1000:1000:Alice:/home/alice:/bin/sh
        bob:x:1001:100::/home/bob:/bin/sh
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
        """
    static let group = """
        root:x:0:
        wheel:x:10:alice
        users:x:100:
        alice:x:1000:
        nogroup:x:65534:
        """

    /// A root with both files.
    static func makeRoot() throws -> TemporaryDirectory {
        let root = try TemporaryDirectory("berth-ut-userspec")
        try root.write("etc/passwd", passwd + "\n")
        try root.write("etc/group", group + "\n")
        return root
    }

    @Suite("resolve") struct Resolve {
        @Test(arguments: [
            ("root", ProcessUser(uid: 0, gid: 0)),
            ("0", ProcessUser(uid: 0, gid: 0)),
            ("alice", ProcessUser(uid: 1000, gid: 1000)),
            ("bob", ProcessUser(uid: 1001, gid: 100)),
            ("daemon", ProcessUser(uid: 1, gid: 1)),
            // A known uid gets its primary group.
            ("1000", ProcessUser(uid: 1000, gid: 1000)),
            ("1001", ProcessUser(uid: 1001, gid: 100)),
            // An unknown uid is allowed (Docker too) and gets group 0.
            ("4242", ProcessUser(uid: 4242, gid: 0)),
            ("alice:wheel", ProcessUser(uid: 1000, gid: 10)),
            ("alice:55", ProcessUser(uid: 1000, gid: 55)),
            ("bob:users", ProcessUser(uid: 1001, gid: 100)),
            ("1001:nogroup", ProcessUser(uid: 1001, gid: 65534)),
            ("1000:0", ProcessUser(uid: 1000, gid: 0)),
            ("4242:4343", ProcessUser(uid: 4242, gid: 4343)),
            ("nobody", ProcessUser(uid: 65534, gid: 65534)),
        ])
        func good(spec: String, user: ProcessUser) throws {
            let root = try UserSpecTests.makeRoot()
            let resolved = try UserSpec.resolve(spec, rootfs: root.path)
            #expect(resolved == user)
            #expect(resolved.additionalGids.isEmpty)
        }

        @Test(arguments: ["", ":", ":100", "alice:", "0:"])
        func malformed(spec: String) throws {
            let root = try UserSpecTests.makeRoot()
            let error = #expect(throws: RuntimeError.self) { try UserSpec.resolve(spec, rootfs: root.path) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.description == "invalid user \"\(spec)\": use uid[:gid] or name[:group]")
        }

        @Test(arguments: [("mallory", "mallory"), ("mallory:wheel", "mallory"), ("Alice", "Alice"), ("-1", "-1")])
        func unknownUser(spec: String, name: String) throws {
            let root = try UserSpecTests.makeRoot()
            let error = #expect(throws: RuntimeError.self) { try UserSpec.resolve(spec, rootfs: root.path) }
            #expect(error?.code == .notFound)
            #expect(error?.description == "user \"\(name)\" is not in the container's /etc/passwd")
        }

        @Test(arguments: [("alice:staff", "staff"), ("1000:admins", "admins"), ("root:x", "x")])
        func unknownGroup(spec: String, name: String) throws {
            let root = try UserSpecTests.makeRoot()
            let error = #expect(throws: RuntimeError.self) { try UserSpec.resolve(spec, rootfs: root.path) }
            #expect(error?.code == .notFound)
            #expect(error?.description == "group \"\(name)\" is not in the container's /etc/group")
        }

        @Test func rootWithoutPasswdTakesNumbersOnly() throws {
            let root = try TemporaryDirectory("berth-ut-userspec")
            #expect(try UserSpec.resolve("0", rootfs: root.path) == ProcessUser(uid: 0, gid: 0))
            #expect(try UserSpec.resolve("1000:1000", rootfs: root.path) == ProcessUser(uid: 1000, gid: 1000))
            let error = #expect(throws: RuntimeError.self) { try UserSpec.resolve("root", rootfs: root.path) }
            #expect(error?.description == "user \"root\" is not in the container's /etc/passwd")
            let groupError = #expect(throws: RuntimeError.self) { try UserSpec.resolve("0:wheel", rootfs: root.path) }
            #expect(groupError?.description == "group \"wheel\" is not in the container's /etc/group")
        }

        /// Found by Fuzz/ (user-spec): the files were split as Swift characters, so a CRLF file
        /// ("\r\n" is one character) was one line with its entries after the first unknown, and a
        /// name matched any Unicode-equivalent spelling of it, where libc compares bytes.
        @Test func theFilesAreReadByBytesAsLibcReadsThem() throws {
            let root = try TemporaryDirectory("berth-ut-userspec")
            try root.write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\r\nalice:x:1000:1000::/home/alice:/bin/sh\r\n"
                + "  e\u{301}ve:x:1002:1002::/home/eve:/bin/sh\n")
            try root.write("etc/group", "root:x:0:\r\nwheel:x:10:alice\r\n")
            #expect(try UserSpec.resolve("alice:wheel", rootfs: root.path) == ProcessUser(uid: 1000, gid: 10))
            #expect(UserSpec.home(of: 1000, rootfs: root.path) == "/home/alice")
            #expect(try UserSpec.resolve("e\u{301}ve", rootfs: root.path) == ProcessUser(uid: 1002, gid: 1002))
            // The same name with a precomposed é is another name to libc.
            let error = #expect(throws: RuntimeError.self) { try UserSpec.resolve("\u{e9}ve", rootfs: root.path) }
            #expect(error?.code == .notFound)
        }
    }

    /// An image's layers, topmost first, as `run` reads them before the overlay is mounted.
    @Suite("layers") struct Layers {
        @Test func theTopmostLayerWithTheFileWins() throws {
            let upper = try TemporaryDirectory("berth-ut-upper")
            let lower = try TemporaryDirectory("berth-ut-lower")
            try lower.write("etc/passwd", "ada:x:1000:1000::/home/ada:/bin/sh\n")
            try upper.write("etc/motd", "hi\n")
            #expect(try UserSpec.resolve("ada", roots: [upper.path, lower.path]) == ProcessUser(uid: 1000, gid: 1000))
            try upper.write("etc/passwd", "ada:x:2000:2000::/home/ada:/bin/sh\n")
            #expect(try UserSpec.resolve("ada", roots: [upper.path, lower.path]) == ProcessUser(uid: 2000, gid: 2000))
        }

        @Test(.enabled(if: getuid() == 0, "needs root: trusted.* xattrs (overlayfs's opaque mark)"))
        func anOpaqueDirectoryHidesTheLowerLayers() throws {
            let upper = try TemporaryDirectory("berth-ut-upper")
            let lower = try TemporaryDirectory("berth-ut-lower")
            try lower.write("etc/passwd", "ada:x:1000:1000::/home/ada:/bin/sh\n")
            try upper.write("etc/motd", "hi\n")
            // `rm -rf /etc; mkdir /etc` in the upper layer: overlayfs marks the new /etc opaque.
            try #require(CFileSystem.lsetxattr(upper.path + "/etc", "trusted.overlay.opaque", "y", 1, 0) == 0,
                         "setting a trusted xattr needs root and a filesystem that keeps them")
            let error = #expect(throws: RuntimeError.self) { try UserSpec.resolve("ada", roots: [upper.path, lower.path]) }
            #expect(error?.description == "user \"ada\" is not in the container's /etc/passwd")
            #expect(try UserSpec.resolve("0", roots: [upper.path, lower.path]) == ProcessUser(uid: 0, gid: 0))
        }
    }

    @Suite("home") struct Home {
        @Test(arguments: [(0, "/root"), (1000, "/home/alice"), (1001, "/home/bob"), (65534, "/nonexistent")]
              as [(UInt32, String)])
        func known(uid: UInt32, home: String) throws {
            let root = try UserSpecTests.makeRoot()
            #expect(UserSpec.home(of: uid, rootfs: root.path) == home)
        }

        @Test func unknownUidOrMissingFileHasNoHome() throws {
            let root = try UserSpecTests.makeRoot()
            #expect(UserSpec.home(of: 4242, rootfs: root.path) == nil)
            let empty = try TemporaryDirectory("berth-ut-userspec")
            #expect(UserSpec.home(of: 0, rootfs: empty.path) == nil)
        }
    }

    /// The image's files are opened with openat2(RESOLVE_IN_ROOT): a symlink in the image is
    /// resolved as if the rootfs were "/", so it can never reach the host's files.
    @Suite("symlinks stay inside the root") struct Symlinks {
        @Test func absoluteSymlinkIsResolvedInsideTheRoot() throws {
            let host = try TemporaryDirectory("berth-ut-host")
            try host.write("passwd", "hostonly:x:4321:4321::/hostonly:/bin/sh\n")
            try host.write("group", "hostgroup:x:4321:\n")
            let root = try TemporaryDirectory("berth-ut-userspec")
            // The links name the host files by their absolute host paths…
            try root.symlink("etc/passwd", to: host.path + "/passwd")
            try root.symlink("etc/group", to: host.path + "/group")
            // …which, seen from inside the root, lead to these.
            try root.write(String(host.path.dropFirst()) + "/passwd", "inroot:x:77:78::/inroot:/bin/sh\n")
            try root.write(String(host.path.dropFirst()) + "/group", "ingroup:x:79:\n")

            let error = #expect(throws: RuntimeError.self) { try UserSpec.resolve("hostonly", rootfs: root.path) }
            #expect(error?.description == "user \"hostonly\" is not in the container's /etc/passwd")
            let groupError = #expect(throws: RuntimeError.self) { try UserSpec.resolve("0:hostgroup", rootfs: root.path) }
            #expect(groupError?.description == "group \"hostgroup\" is not in the container's /etc/group")
            #expect(try UserSpec.resolve("inroot:ingroup", rootfs: root.path) == ProcessUser(uid: 77, gid: 79))
            #expect(UserSpec.home(of: 4321, rootfs: root.path) == nil)
            #expect(UserSpec.home(of: 77, rootfs: root.path) == "/inroot")
        }

        @Test func dotDotCannotClimbOutOfTheRoot() throws {
            // Seen from the host, <base>/root/etc/../../outside/etc/passwd is <base>/outside/etc/passwd,
            // outside the root. Inside the root ".." stops at its top, so the link means
            // /outside/etc/passwd of the root.
            let base = try TemporaryDirectory("berth-ut-base")
            try base.write("outside/etc/passwd", "escaped:x:4321:4321::/escaped:/bin/sh\n")
            try base.write("root/outside/etc/passwd", "contained:x:88:88::/contained:/bin/sh\n")
            try base.symlink("root/etc/passwd", to: "../../outside/etc/passwd")
            let rootfs = base.path + "/root"

            let error = #expect(throws: RuntimeError.self) { try UserSpec.resolve("escaped", rootfs: rootfs) }
            #expect(error?.code == .notFound)
            #expect(try UserSpec.resolve("contained", rootfs: rootfs) == ProcessUser(uid: 88, gid: 88))
        }

        @Test func symlinkToTheHostsEtcPasswdReadsTheRootsOwn() throws {
            // The classic attack: an image whose /etc/passwd points at the host's /etc/passwd,
            // which always has root. Inside the root, /etc/passwd is the link itself: a loop,
            // so nothing is read and even "root" is unknown.
            let root = try TemporaryDirectory("berth-ut-userspec")
            try root.symlink("etc/passwd", to: "/etc/passwd")
            let error = #expect(throws: RuntimeError.self) { try UserSpec.resolve("root", rootfs: root.path) }
            #expect(error?.description == "user \"root\" is not in the container's /etc/passwd")
            #expect(UserSpec.home(of: 0, rootfs: root.path) == nil)
        }
    }
}
