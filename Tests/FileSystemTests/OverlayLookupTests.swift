import CFileSystem
import FileSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Overlay lookup") struct OverlayLookupTests {
    /// user.* xattrs need no privilege; overlay reads them when mounted with userxattr.
    static let opaque = "user.overlay.opaque"

    static func markOpaque(_ path: String) throws {
        let rc = setxattr(path, opaque, "y", 1, 0)
        try #require(rc == 0, "the filesystem under /tmp must keep user xattrs")
    }

    static func whiteout(_ path: String) throws {
        // A 0:0 character device needs no CAP_MKNOD (Linux 5.8 and later): it is overlay's whiteout.
        try #require(mknod(path, S_IFCHR | 0o600, 0) == 0, "mknod of a whiteout: errno \(errno)")
    }

    /// The layer index the path is visible in, "behind N" for a non-directory on the way, nil
    /// when nothing is visible.
    static func describe(_ visibility: OverlayLookup.Visibility) -> String? {
        switch visibility {
        case .visible(let layer, _): "\(layer)"
        case .behindNonDirectory(let layer, _): "behind \(layer)"
        case .absent: nil
        }
    }

    @Test func resolvesLikeOverlay() throws {
        let scratch = try Scratch()
        let top = scratch.path + "/top", middle = scratch.path + "/middle", bottom = scratch.path + "/bottom"
        for file in ["a/file", "a/kept", "b/file", "c/file", "d", "e/deep/file", "f/file"] {
            try scratch.write("bottom/" + file, "bottom")
        }
        #expect(symlink("/etc", bottom + "/link") == 0)
        try scratch.write("middle/e/deep/other", "middle")
        try scratch.write("middle/f/file", "middle")
        try Self.markOpaque(middle + "/e")
        try scratch.write("top/a/.keep", "")
        try scratch.write("top/b/other", "top")
        try scratch.write("top/c", "not a directory")
        try Self.whiteout(top + "/a/file")
        try Self.whiteout(top + "/f")
        try Self.markOpaque(top + "/b")

        let lookup = OverlayLookup(layers: [top, middle, bottom], opaqueXattr: Self.opaque)
        let find = { Self.describe(lookup.find($0)) }
        #expect(find("/a/file") == nil, "whited out in the top layer")
        #expect(find("/a/kept") == "2")
        #expect(find("a/kept") == "2", "relative paths are the same paths")
        #expect(find("/a") == "0", "the topmost directory counts")
        #expect(find("/b/file") == nil, "below an opaque directory")
        #expect(find("/b/other") == "0")
        #expect(find("/c/file") == "behind 0", "the top layer's /c is a file")
        #expect(find("/c") == "0")
        #expect(find("/d") == "2")
        #expect(find("/e/deep/other") == "1")
        #expect(find("/e/deep/file") == nil, "the middle layer's /e is opaque")
        #expect(find("/f/file") == nil, "a whited out directory hides its lower contents")
        #expect(find("/link/passwd") == "behind 2", "a link in the way is not followed out of the layer")
        #expect(find("/link") == "2")
        #expect(find("/missing") == nil)
        #expect(find("/") == nil)
        if case .visible(_, let status) = lookup.find("/d") {
            #expect(status.st_size == 6)
        } else {
            Issue.record("/d is visible")
        }
        // With another xattr name the marks mean nothing.
        let unmarked = OverlayLookup(layers: [top, middle, bottom], opaqueXattr: "user.other.opaque")
        #expect(Self.describe(unmarked.find("/b/file")) == "2")
    }
}
