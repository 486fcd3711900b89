import ImageStore
import Testing

/// Image references as Docker spells them, and the sentences bad ones get.
@Suite("Image references")
struct ImageReferenceTests {
    @Test("good references", arguments: [
        ("busybox", nil, "busybox", "latest", nil),
        ("busybox:1.35", nil, "busybox", "1.35", nil),
        ("me/greeting:v1", nil, "me/greeting", "v1", nil),
        ("localhost:5000/team/app:v2", "localhost:5000", "team/app", "v2", nil),
        ("registry.example.com/app", "registry.example.com", "app", "latest", nil),
        ("me/a.b-c__d--e", nil, "me/a.b-c__d--e", "latest", nil),
        ("app:V_1.0-rc", nil, "app", "V_1.0-rc", nil),
        ("app@sha256:" + String(repeating: "a", count: 64), nil, "app", nil,
         "sha256:" + String(repeating: "a", count: 64)),
        ("app:1@sha256:" + String(repeating: "0", count: 64), nil, "app", "1",
         "sha256:" + String(repeating: "0", count: 64)),
    ] as [(String, String?, String, String?, String?)])
    func parses(text: String, registry: String?, path: String, tag: String?, digest: String?) throws {
        let ref = try ImageReference.parse(text)
        #expect(ref.registry == registry)
        #expect(ref.path == path)
        #expect(ref.tag == tag)
        #expect(ref.digest?.description == digest)
    }

    @Test("the stored form adds :latest and keeps everything else")
    func description() throws {
        #expect(try ImageReference.parse("busybox").description == "busybox:latest")
        #expect(try ImageReference.parse("localhost:5000/a/b:c").description == "localhost:5000/a/b:c")
    }

    @Test("Docker Hub's spellings are one reference, in the familiar form", arguments: [
        ("busybox", "busybox:latest", "docker.io", "library/busybox"),
        ("library/busybox", "busybox:latest", "docker.io", "library/busybox"),
        ("docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox"),
        ("index.docker.io/library/busybox:1.35", "busybox:1.35", "docker.io", "library/busybox"),
        ("docker.io/busybox", "busybox:latest", "docker.io", "library/busybox"),
        ("docker.io/me/app:v2", "me/app:v2", "docker.io", "me/app"),
        ("library/a/b", "library/a/b:latest", "docker.io", "library/a/b"),
        ("localhost:5000/library/busybox", "localhost:5000/library/busybox:latest", "localhost:5000", "library/busybox"),
        ("localhost/app", "localhost/app:latest", "localhost", "app"),
        ("quay.io/busybox", "quay.io/busybox:latest", "quay.io", "busybox"),
        // Found by Fuzz/ (image-reference): written bare, this Hub path named the registry docker.io.
        ("docker.io/docker.io/lib19", "docker.io/docker.io/lib19:latest", "docker.io", "docker.io/lib19"),
        ("docker.io/localhost/app", "docker.io/localhost/app:latest", "docker.io", "localhost/app"),
    ])
    func normalised(text: String, stored: String, domain: String, remotePath: String) throws {
        let ref = try ImageReference.parse(text)
        #expect(ref.description == stored)
        #expect(ref.domain == domain)
        #expect(ref.remotePath == remotePath)
        #expect(ref.qualifiedName == domain + "/" + remotePath)
        #expect(try ImageReference.parse(ref.description) == ref)
    }

    @Test("busybox and docker.io/library/busybox:latest are equal references")
    func hubEquality() throws {
        #expect(try ImageReference.parse("busybox") == ImageReference.parse("docker.io/library/busybox:latest"))
        #expect(try ImageReference.parse("busybox") != ImageReference.parse("localhost/busybox"))
    }

    /// Found by Fuzz/ (image-reference): the 255-character limit was on the whole text, so a long
    /// name without a tag parsed and its stored form, with ":latest", did not.
    @Test("a name of 255 characters, with or without a tag, parses again from its stored form")
    func longestName() throws {
        let name = "registry.example.com/" + String(repeating: "a", count: 255 - 21)
        for text in [name, name + ":" + String(repeating: "t", count: 128),
                     name + "@sha256:" + String(repeating: "0", count: 64)] {
            let ref = try ImageReference.parse(text)
            #expect(ref.name == name)
            #expect(try ImageReference.parse(ref.description) == ref)
        }
        #expect(throws: ImageStoreError.self) { try ImageReference.parse(name + "a") }
    }

    @Test("bad references say why", arguments: [
        ("", "it is empty"),
        ("BUSYBOX::x", "repository names must be lowercase"),
        ("busybox::x", "\"busybox:\" is not a valid name component"),
        ("a_b.c/x", "the registry \"a_b.c\" is not a host name"),
        ("Busybox", "repository names must be lowercase"),
        ("a//b", "empty path component"),
        ("/a", "empty path component"),
        ("a/", "empty path component"),
        ("-a", "is not a valid name component"),
        ("a_", "is not a valid name component"),
        ("a___b", "is not a valid name component"),
        ("a:", "the tag \"\" must be"),
        ("a:.x", "the tag \".x\" must be"),
        ("a:" + String(repeating: "x", count: 129), "must be 1 to 128"),
        ("a@sha256:abc", "the digest after @"),
        ("a@md5:" + String(repeating: "a", count: 32), "the digest after @"),
        ("bad_host:99999/a", "the registry \"bad_host:99999\""),
        (String(repeating: "a", count: 256), "longer than 255"),
    ])
    func rejects(text: String, fragment: String) {
        let error = #expect(throws: ImageStoreError.self) { try ImageReference.parse(text) }
        #expect(error?.code == .invalidReference)
        #expect(error?.description.hasPrefix("invalid image reference \"\(text)\": ") == true)
        #expect(error?.description.contains(fragment) == true, "\(error?.description ?? "")")
    }
}

@Suite("Digests")
struct DigestTests {
    @Test("sha256 of known inputs")
    func known() {
        #expect(Digest.of([UInt8]()).description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.of(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.of(Array("abc".utf8)).short == "ba7816bf8f01")
    }

    @Test("streaming gives the same digest and counts bytes")
    func streaming() {
        var digester = Digester()
        digester.update(Array("a".utf8))
        digester.update(Array("bc".utf8))
        #expect(digester.finalize() == Digest.of(Array("abc".utf8)))
        #expect(digester.count == 3)
    }

    @Test("only sha256 with 64 lowercase hex parses", arguments: [
        "sha256:" + String(repeating: "A", count: 64), "sha256:" + String(repeating: "a", count: 63),
        "sha512:" + String(repeating: "a", count: 64), String(repeating: "a", count: 64), "sha256:",
    ])
    func rejects(text: String) {
        #expect(Digest(text) == nil)
        #expect(throws: ImageStoreError.self) { try Digest.parse(text) }
    }
}

@Suite("Chain ids")
struct ChainIDTests {
    @Test("the first is the diff id; each next hashes the previous and the diff id")
    func chain() {
        let a = Digest.of(Array("a".utf8)), b = Digest.of(Array("b".utf8)), c = Digest.of(Array("c".utf8))
        let ids = ChainID.chain([a, b, c])
        #expect(ids.count == 3)
        #expect(ids[0] == a)
        #expect(ids[1] == Digest.of(Array("\(a) \(b)".utf8)))
        #expect(ids[2] == Digest.of(Array("\(ids[1]) \(c)".utf8)))
        #expect(ChainID.chain([]).isEmpty)
    }
}
