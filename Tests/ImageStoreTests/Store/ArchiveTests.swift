import Foundation
import JSON
import Testing
@testable import ImageStore

@Suite("Image store: save and load", .enabled(if: getuid() == 0, "needs root: devices, trusted.* xattrs"))
struct ArchiveTests {
    /// A base image and a commit on it, saved by tag to `<base>/images.tar`.
    static func saved(_ s: ImageStoreTests.Scratch) throws -> (base: ImageSummary, top: ImageStore.CommitResult, tar: String) {
        let base = try s.importTree("test/base:v1")
        let top = try s.commit(try s.makeUpper(), on: base.manifest, as: "me/greeting:v1")
        let tar = s.base + "/images.tar"
        try s.store.save(["me/greeting:v1", "test/base:v1"], toFile: tar)
        return (base, top, tar)
    }

    @Test("save then load into an empty store: same ids and tags, resolvable, check clean")
    func roundTrip() throws {
        let s = try ImageStoreTests.Scratch()
        let (base, top, tar) = try Self.saved(s)
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.base).filter { $0.hasPrefix("images.tar.tmp-") } == [])
        let listing = try LayerFixtures.sh("tar -tf '\(tar)'").split(separator: "\n").map(String.init)
        #expect(Array(listing.prefix(5)) == ["oci-layout", "index.json", "manifest.json", "blobs/", "blobs/sha256/"])
        #expect(listing.count == 5 + 6, "two manifests, two configs, two layers")
        let docker = try JSON.decode([DockerArchiveManifest].self, from: try LayerFixtures.sh("tar -xOf '\(tar)' manifest.json"))
        #expect(docker.map(\.repoTags) == [["me/greeting:v1"], ["test/base:v1"]])
        #expect(docker[0].config == "blobs/sha256/" + top.id.hex && docker[0].layers.count == 2)
        _ = try LayerFixtures.sh("skopeo inspect --raw 'oci-archive:\(tar):me/greeting:v1'")

        let other = try ImageStoreTests.Scratch()
        let loaded = try other.store.load(fromFile: tar)
        #expect(loaded.map(\.reference) == ["me/greeting:v1", "test/base:v1"])
        #expect(loaded.map(\.id) == [top.id, base.id])
        #expect(try other.store.images() == s.store.images().reversed())
        #expect(try other.store.check() == [])
        let resolved = try other.store.resolve("me/greeting:v1")
        #expect(FileManager.default.fileExists(atPath: resolved.layerDirectories[0] + "/added.txt"))
        #expect(try other.store.history("me/greeting:v1").count == 2)

        // Through a pipe, as `berth save - | berth load` would.
        let third = try ImageStoreTests.Scratch()
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let (store, writeEnd, id) = (s.store, ends[1], top.id.short)
        let writer = Thread {
            try? store.save([id], to: writeEnd)
            close(writeEnd)
        }
        writer.start()
        defer { close(ends[0]) }
        let piped = try third.store.load(from: ends[0])
        #expect(piped.map(\.reference) == [ImageSummary.untaggedReference], "saved by id: no tag")
        #expect(try third.store.resolve(top.id.short).configDigest == top.id)
    }

    @Test("a tampered blob fails the load with .corrupt naming the entry; nothing is tagged, tmp/ is empty")
    func tampered() throws {
        let s = try ImageStoreTests.Scratch()
        let (_, top, tar) = try Self.saved(s)
        let layer = try #require(try s.documents("me/greeting:v1").0.layers.last).digest.dropFirst("sha256:".count)
        try LayerFixtures.sh("""
            set -e; mkdir '\(s.base)/x'; cd '\(s.base)/x'; tar -xf '\(tar)'
            printf 'X' | dd of=blobs/sha256/\(layer) bs=1 seek=100 conv=notrunc status=none
            tar -cf '\(s.base)/tampered.tar' oci-layout index.json manifest.json blobs
            """)
        let other = try ImageStoreTests.Scratch()
        let error = #expect(throws: ImageStoreError.self) { try other.store.load(fromFile: s.base + "/tampered.tar") }
        #expect(error?.code == .corrupt)
        #expect(error?.description.contains("\"blobs/sha256/\(layer)\"") == true, "\(error.map { "\($0)" } ?? "")")
        #expect(try other.store.images(includeUntagged: true) == [])
        #expect(other.names(other.store.temporaryDirectory) == [])
        #expect(throws: ImageStoreError.self) { try other.store.resolve(top.id.short) }
    }

    @Test("a damaged blob that check reports is repaired by loading a good copy of it")
    func damagedBlobRepairedByLoad() throws {
        let s = try ImageStoreTests.Scratch()
        let (_, _, tar) = try Self.saved(s)
        let layer = try #require(try s.documents("me/greeting:v1").0.layers.last).digest.dropFirst("sha256:".count)
        try LayerFixtures.sh("printf 'X' | dd of='\(s.store.layout.blobs.directory)/\(layer)' bs=1 seek=100 conv=notrunc status=none")
        let problems = try s.store.check()
        #expect(problems.contains { $0.contains(String(layer)) }, "\(problems)")
        _ = try s.store.load(fromFile: tar)
        #expect(try s.store.check() == [])
    }

    @Test("save of a damaged blob to a stream fails and leaves no archive that reads as complete")
    func damagedBlobToStream() throws {
        let s = try ImageStoreTests.Scratch()
        _ = try Self.saved(s)
        let layer = try #require(try s.documents("me/greeting:v1").0.layers.last).digest.dropFirst("sha256:".count)
        try LayerFixtures.sh("printf 'X' | dd of='\(s.store.layout.blobs.directory)/\(layer)' bs=1 seek=100 conv=notrunc status=none")
        let out = s.base + "/stream.tar"
        let fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        let error = #expect(throws: ImageStoreError.self) { try s.store.save(["me/greeting:v1"], to: fd) }
        close(fd)
        #expect(error?.code == .corrupt)
        // A complete tar ends with two zero blocks (the end-of-archive marker; libarchive pads the
        // last record with more). What reached the stream stops inside the archive instead.
        let bytes = try #require(FileManager.default.contents(atPath: out))
        #expect(bytes.count < 1024 || !bytes.suffix(1024).allSatisfy { $0 == 0 },
                "\(bytes.count) bytes ending in an end-of-archive marker: a failed save looks complete")
    }

    @Test("hostile entries are refused before anything is written outside blobs/",
          arguments: [("file('../evil', b'x')", "../evil"), ("file('/abs', b'x')", "/abs"),
                      ("link('blobs/sha256/' + 'a' * 64, '/etc/passwd')", "blobs/sha256/aaaa"),
                      ("file('blobs/sha512/abc', b'x')", "blobs/sha512/abc")])
    func hostile(_ members: String, _ entry: String) throws {
        let s = try ImageStoreTests.Scratch()
        try LayerFixtures.python("""
            import tarfile, io
            t = tarfile.open('\(s.base)/hostile.tar', 'w', format=tarfile.PAX_FORMAT)
            def file(name, data):
                i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; t.addfile(i, io.BytesIO(data))
            def link(name, target):
                i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
            file('oci-layout', b'{"imageLayoutVersion":"1.0.0"}')
            \(members)
            t.close()
            """)
        let error = #expect(throws: ImageStoreError.self) { try s.store.load(fromFile: s.base + "/hostile.tar") }
        #expect(error?.code == .rejected)
        #expect(error?.description.contains("\"\(entry)") == true, "\(error.map { "\($0)" } ?? "")")
        #expect(s.blobNames == [] && s.names(s.store.temporaryDirectory) == [])
        #expect(!FileManager.default.fileExists(atPath: s.base + "/evil") && !FileManager.default.fileExists(atPath: "/abs"))
    }

    @Test("a docker-save tar (manifest.json, config file, uncompressed layer.tar) loads")
    func dockerSave() throws {
        let s = try ImageStoreTests.Scratch()
        try LayerFixtures.python("""
            import tarfile, io, hashlib, json
            layer = io.BytesIO()
            with tarfile.open(fileobj=layer, mode='w', format=tarfile.PAX_FORMAT) as l:
                data = b'hello from docker\\n'
                i = tarfile.TarInfo('hello.txt'); i.size = len(data); i.mode = 0o644; l.addfile(i, io.BytesIO(data))
                i = tarfile.TarInfo('bin'); i.type = tarfile.DIRTYPE; i.mode = 0o755; l.addfile(i)
            layer = layer.getvalue()
            diff_id = 'sha256:' + hashlib.sha256(layer).hexdigest()
            config = json.dumps({'architecture': 'amd64', 'os': 'linux', 'created': '2024-01-01T00:00:00Z',
                                 'config': {'Cmd': ['/hello'], 'Env': ['PATH=/bin'], 'Healthcheck': {'Test': ['CMD', '/hello']}},
                                 'rootfs': {'type': 'layers', 'diff_ids': [diff_id]},
                                 'history': [{'created': '2024-01-01T00:00:00Z', 'created_by': 'COPY hello.txt /'}],
                                 'docker_version': '24.0.7'}).encode()
            config_name = hashlib.sha256(config).hexdigest() + '.json'
            manifest = json.dumps([{'Config': config_name, 'RepoTags': ['legacy/app:v1'],
                                    'Layers': ['0123abcd/layer.tar']}]).encode()
            t = tarfile.open('\(s.base)/docker.tar', 'w')
            def file(name, data):
                i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; t.addfile(i, io.BytesIO(data))
            d = tarfile.TarInfo('0123abcd'); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
            file('0123abcd/VERSION', b'1.0'); file('0123abcd/json', b'{}'); file('0123abcd/layer.tar', layer)
            file(config_name, config)
            file('repositories', json.dumps({'legacy/app': {'v1': '0123abcd'}}).encode())
            file('manifest.json', manifest)
            t.close()
            open('\(s.base)/config-id', 'w').write('sha256:' + hashlib.sha256(config).hexdigest())
            """)
        let loaded = try s.store.load(fromFile: s.base + "/docker.tar")
        let id = try String(contentsOfFile: s.base + "/config-id", encoding: .utf8)
        #expect(loaded.map(\.reference) == ["legacy/app:v1"])
        #expect(loaded.first?.id.description == id, "the image id is Docker's: the config is stored as it was")
        let (manifest, config) = try s.documents("legacy/app:v1")
        #expect(manifest.layers.map(\.mediaType) == [OCIImage.MediaType.layer])
        #expect(config.rootfs.diffIDs == [manifest.layers[0].digest], "an uncompressed layer's digest is its diff_id")
        let resolved = try s.store.resolve("legacy/app:v1")
        #expect(try String(contentsOfFile: resolved.layerDirectories[0] + "/hello.txt", encoding: .utf8) == "hello from docker\n")
        #expect(resolved.config.config?.cmd == ["/hello"])
        #expect(try s.store.check() == [])

        // A commit on it keeps what berth's config model leaves out, and edits what it has.
        try LayerFixtures.sh("mkdir '\(s.base)/u'")
        let committed = try s.store.commit(upperDirectory: s.base + "/u", parent: resolved.manifestDigest, as: nil, author: nil,
                                           message: nil, createdBy: "berth commit", date: ImageStoreTests.date) {
            $0.config?.cmd = ["/bye"]
        }
        let text = String(decoding: try s.store.layout.blobs.read(committed.id), as: UTF8.self)
        #expect(text.contains(#""docker_version":"24.0.7""#) && text.contains(#""Healthcheck":{"Test":["CMD","/hello"]}"#), "\(text)")
        #expect(text.contains(#""Cmd":["/bye"]"#))
        #expect(try s.store.resolve(committed.id.short).config.config?.cmd == ["/bye"])
    }

    @Test("a legacy docker-save tar whose shared layer.tar is a symbolic link loads; a link out of the archive is refused")
    func dockerSaveLinkedLayer() throws {
        let s = try ImageStoreTests.Scratch()
        func archive(_ name: String, linkTarget: String) throws {
            try LayerFixtures.python("""
                import tarfile, io, hashlib, json
                def layer(name, data):
                    b = io.BytesIO()
                    with tarfile.open(fileobj=b, mode='w', format=tarfile.PAX_FORMAT) as l:
                        i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; l.addfile(i, io.BytesIO(data))
                    return b.getvalue()
                base, top = layer('base.txt', b'base'), layer('top.txt', b'top')
                sha = lambda b: 'sha256:' + hashlib.sha256(b).hexdigest()
                def config(layers):
                    return json.dumps({'architecture': 'amd64', 'os': 'linux',
                                       'rootfs': {'type': 'layers', 'diff_ids': [sha(l) for l in layers]}}).encode()
                c1, c2 = config([base]), config([base, top])
                manifest = json.dumps([
                    {'Config': hashlib.sha256(c1).hexdigest() + '.json', 'RepoTags': ['legacy/base:1'], 'Layers': ['aaaa/layer.tar']},
                    {'Config': hashlib.sha256(c2).hexdigest() + '.json', 'RepoTags': ['legacy/app:1'],
                     'Layers': ['bbbb/layer.tar', 'cccc/layer.tar']}]).encode()
                t = tarfile.open('\(s.base)/\(name)', 'w')
                def file(name, data):
                    i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; t.addfile(i, io.BytesIO(data))
                file('aaaa/layer.tar', base)
                i = tarfile.TarInfo('bbbb/layer.tar'); i.type = tarfile.SYMTYPE; i.linkname = '\(linkTarget)'; t.addfile(i)
                file('cccc/layer.tar', top)
                file(hashlib.sha256(c1).hexdigest() + '.json', c1); file(hashlib.sha256(c2).hexdigest() + '.json', c2)
                file('manifest.json', manifest)
                t.close()
                """)
        }
        try archive("linked.tar", linkTarget: "../aaaa/layer.tar")
        let loaded = try s.store.load(fromFile: s.base + "/linked.tar")
        #expect(loaded.map(\.reference) == ["legacy/base:1", "legacy/app:1"])
        let app = try s.store.resolve("legacy/app:1")
        #expect(app.layerDirectories.count == 2)
        #expect(try String(contentsOfFile: app.layerDirectories[1] + "/base.txt", encoding: .utf8) == "base")
        #expect(try String(contentsOfFile: app.layerDirectories[0] + "/top.txt", encoding: .utf8) == "top")
        #expect(try s.store.check() == [])

        let other = try ImageStoreTests.Scratch()
        try archive("escaping.tar", linkTarget: "../../etc/passwd")
        let error = #expect(throws: ImageStoreError.self) { try other.store.load(fromFile: s.base + "/escaping.tar") }
        #expect(error?.code == .rejected)
        #expect(error?.description.contains("\"bbbb/layer.tar\"") == true, "\(error.map { "\($0)" } ?? "")")
        #expect(try other.store.images(includeUntagged: true) == [])
    }

    @Test("an OCI archive in Docker's own media types (docker save with the containerd store) loads, runs and saves")
    func dockerMediaTypes() throws {
        let s = try ImageStoreTests.Scratch()
        try LayerFixtures.python("""
            import tarfile, io, hashlib, json, gzip
            layer = io.BytesIO()
            with tarfile.open(fileobj=layer, mode='w', format=tarfile.PAX_FORMAT) as l:
                data = b'hello from moby\\n'
                i = tarfile.TarInfo('hello.txt'); i.size = len(data); i.mode = 0o644; l.addfile(i, io.BytesIO(data))
            layer = layer.getvalue()
            packed = gzip.compress(layer, mtime=0)
            sha = lambda b: 'sha256:' + hashlib.sha256(b).hexdigest()
            config = json.dumps({'architecture': 'amd64', 'os': 'linux', 'config': {'Cmd': ['/hello']},
                                 'rootfs': {'type': 'layers', 'diff_ids': [sha(layer)]}}).encode()
            manifest = json.dumps({'schemaVersion': 2,
                'mediaType': 'application/vnd.docker.distribution.manifest.v2+json',
                'config': {'mediaType': 'application/vnd.docker.container.image.v1+json', 'digest': sha(config), 'size': len(config)},
                'layers': [{'mediaType': 'application/vnd.docker.image.rootfs.diff.tar.gzip', 'digest': sha(packed), 'size': len(packed)}]}).encode()
            index = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
                'manifests': [{'mediaType': 'application/vnd.docker.distribution.manifest.v2+json', 'digest': sha(manifest),
                               'size': len(manifest), 'annotations': {'io.containerd.image.name': 'docker.io/library/moby:1'}}]}).encode()
            t = tarfile.open('\(s.base)/moby.tar', 'w')
            def file(name, data):
                i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; t.addfile(i, io.BytesIO(data))
            file('oci-layout', b'{"imageLayoutVersion":"1.0.0"}'); file('index.json', index)
            for blob in (config, manifest, packed): file('blobs/sha256/' + hashlib.sha256(blob).hexdigest(), blob)
            t.close()
            """)
        let loaded = try s.store.load(fromFile: s.base + "/moby.tar")
        #expect(loaded.map(\.reference) == ["moby:1"])
        #expect(try s.store.images().map(\.reference) == ["moby:1"], "listed like any image")
        let resolved = try s.store.resolve("moby:1")
        #expect(try String(contentsOfFile: resolved.layerDirectories[0] + "/hello.txt", encoding: .utf8) == "hello from moby\n")
        #expect(try s.store.resolve(resolved.configDigest.short).manifestDigest == resolved.manifestDigest, "found by id")
        #expect(try s.store.check() == [])
        try s.store.save(["moby:1"], toFile: s.base + "/again.tar")
        let other = try ImageStoreTests.Scratch()
        #expect(try other.store.load(fromFile: s.base + "/again.tar").map(\.id) == [resolved.configDigest])
    }
}
