import Testing
@testable import ImageStore

/// Tar names are checked before anything touches the disk.
@Suite("Layer entry names")
struct LayerPathTests {
    @Test("names are split and normalised the way tar reads them", arguments: [
        ("etc/motd", ["etc", "motd"]),
        ("./etc/motd", ["etc", "motd"]),
        ("etc//motd/", ["etc", "motd"]),
        ("./", []),
        (".", []),
        ("a/./b", ["a", "b"]),
        ("...", ["..."]),
        ("..a/b..", ["..a", "b.."]),
    ])
    func accepted(name: String, components: [String]) throws {
        let path = try LayerPath.parse(Array(name.utf8))
        #expect(path.components.map { String(decoding: $0, as: UTF8.self) } == components)
    }

    @Test("names that could leave the layer are refused, naming the entry", arguments: [
        "/etc/passwd", "../evil", "a/../../evil", "a/..", "..", "//abs",
    ])
    func refused(name: String) {
        let error = #expect(throws: LayerError.self) { try LayerPath.parse(Array(name.utf8)) }
        #expect(error?.code == .unsafePath)
        #expect(error?.entry == name)
        #expect(error?.description.contains("layer entry \"\(name)\"") == true)
    }

    @Test("an empty name is a broken archive")
    func empty() {
        let error = #expect(throws: LayerError.self) { try LayerPath.parse([]) }
        #expect(error?.code == .badArchive)
    }

    @Test("whiteout names", arguments: [
        (".wh.motd", Whiteout.Meaning.whiteout(name: Array("motd".utf8))),
        (".wh..wh..opq", .opaque),
        (".wh..wh.plnk", .aufsMetadata),
        ("motd", .plain),
        (".whx", .plain),
    ])
    func whiteouts(name: String, meaning: Whiteout.Meaning) {
        #expect(Whiteout.meaning(of: Array(name.utf8)) == meaning)
    }
}
