import Containers
import Runtime
import Testing

/// `-v`, `--mount` and `--tmpfs` as `MountRequest`s: what each form means, and the one-line
/// refusal of each malformed one.
@Suite("Mount flags") struct MountRequestTests {
    static let noExec: MountFlags = [.noSuid, .noDev, .noExec]

    @Test(arguments: [
        ("/srv:/data", MountRequest(source: .bind(path: "/srv", createMissing: true), destination: "/data")),
        ("/srv:/data:ro", MountRequest(source: .bind(path: "/srv", createMissing: true), destination: "/data", readOnly: true)),
        ("/srv:/data:rw,rshared", MountRequest(source: .bind(path: "/srv", createMissing: true), destination: "/data",
                                               propagation: .rshared)),
        ("cache:/var/cache", MountRequest(source: .volume(name: "cache"), destination: "/var/cache")),
        ("my.vol-1:/d:ro,nocopy", MountRequest(source: .volume(name: "my.vol-1"), destination: "/d", readOnly: true, noCopy: true)),
        ("/anonymous", MountRequest(source: .volume(name: nil), destination: "/anonymous")),
        ("/srv:/a/./b/", MountRequest(source: .bind(path: "/srv", createMissing: true), destination: "/a/b")),
    ])
    func volumeFlag(text: String, expected: MountRequest) throws {
        #expect(try MountRequest.parse(volume: text) == expected)
    }

    @Test(arguments: [
        ("type=bind,src=/srv,dst=/data", MountRequest(source: .bind(path: "/srv", createMissing: false), destination: "/data")),
        ("type=bind,source=/srv,target=/data,readonly,bind-propagation=rslave",
         MountRequest(source: .bind(path: "/srv", createMissing: false), destination: "/data", readOnly: true, propagation: .rslave)),
        ("src=cache,dst=/c", MountRequest(source: .volume(name: "cache"), destination: "/c")),
        ("type=volume,destination=/c,volume-nocopy,ro=true", MountRequest(source: .volume(name: nil), destination: "/c",
                                                                          readOnly: true, noCopy: true)),
        ("type=tmpfs,dst=/t,tmpfs-size=16m,tmpfs-mode=1770",
         MountRequest(source: .tmpfs(flags: noExec, options: ["size=16777216", "mode=1770"]), destination: "/t")),
        ("type=tmpfs,dst=/t,readonly", MountRequest(source: .tmpfs(flags: noExec.union(.readOnly), options: []),
                                                    destination: "/t", readOnly: true)),
    ])
    func mountFlag(text: String, expected: MountRequest) throws {
        #expect(try MountRequest.parse(mount: text) == expected)
    }

    @Test(arguments: [
        ("/t", MountRequest(source: .tmpfs(flags: noExec, options: []), destination: "/t")),
        ("/t:size=64k,mode=1777", MountRequest(source: .tmpfs(flags: noExec, options: ["size=65536", "mode=1777"]), destination: "/t")),
        ("/t:exec,ro,uid=1000", MountRequest(source: .tmpfs(flags: [.noSuid, .noDev, .readOnly], options: ["uid=1000"]),
                                             destination: "/t", readOnly: true)),
    ])
    func tmpfsFlag(text: String, expected: MountRequest) throws {
        #expect(try MountRequest.parse(tmpfs: text) == expected)
    }

    /// Each malformed flag, and words its one-line message must hold.
    @Test(arguments: [
        ("-v", "a:/b:ro:x", "too many colons"),
        ("-v", "./x:/d", "not a volume name"),
        ("-v", "x/y:/d", "not a volume name"),
        ("-v", "a:/d", "not a volume name"),
        ("-v", "/srv:rel", "must be absolute"),
        ("-v", "/srv:/", "container's root"),
        ("-v", "/srv:/a/../b", "\"..\""),
        ("-v", "/srv:/a\u{06DD}/../b", "\"..\""),
        ("-v", "/srv:/d:rx", "unknown mode \"rx\""),
        ("-v", "/srv:/d:ro,rw", "both ro and rw"),
        ("-v", "/srv:/d:nocopy", "nocopy is for a volume"),
        ("-v", "vol:/d:shared", "propagation, not a volume's"),
        ("-v", ":/d", "empty part"),
        ("--mount", "type=bind,src=/srv", "no target"),
        ("--mount", "type=bind,dst=/d", "needs src"),
        ("--mount", "type=bind,src=rel,dst=/d", "absolute"),
        ("--mount", "type=nfs,dst=/d", "unknown type \"nfs\""),
        ("--mount", "type=bind,src=/srv,dst=/d,colour=red", "unknown key \"colour\""),
        ("--mount", "type=bind,src=/srv,dst=/d,tmpfs-size=1m", "tmpfs-size is for a mount of type tmpfs, not bind"),
        ("--mount", "type=volume,dst=/d,bind-propagation=shared", "bind-propagation is for a mount of type bind"),
        ("--mount", "type=bind,src=/srv,dst=/d,volume-nocopy", "volume-nocopy is for a mount of type volume"),
        ("--mount", "type=bind,src=/srv,dst=/d,bind-propagation=sideways", "unknown bind-propagation"),
        ("--mount", "type=tmpfs,src=x,dst=/d", "has no source"),
        ("--mount", "type=tmpfs,dst=/d,tmpfs-size=lots", "not a size"),
        ("--mount", "type=tmpfs,dst=/d,tmpfs-mode=999", "octal"),
        ("--mount", "type=volume,src=Bad!,dst=/d", "not a volume name"),
        ("--mount", "dst=/d,dst=/e", "given twice"),
        ("--mount", "type=bind,src=/srv,dst=/d,readonly=maybe", "use true or false"),
        ("--tmpfs", "rel", "must be absolute"),
        ("--tmpfs", "/t:size=big", "not a size"),
        ("--tmpfs", "/t:huge", "unknown option"),
        ("--tmpfs", "/t:mode=1999", "octal"),
    ])
    func refused(flag: String, text: String, words: String) {
        let error = #expect(throws: ContainerError.self) {
            switch flag {
            case "-v": _ = try MountRequest.parse(volume: text)
            case "--mount": _ = try MountRequest.parse(mount: text)
            default: _ = try MountRequest.parse(tmpfs: text)
            }
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(text) == true, "the message names the flag's text: \(error?.message ?? "")")
        #expect(error?.message.contains("\n") == false)
    }

    @Test func twoMountsAtOneTargetAreRefused() {
        let error = #expect(throws: ContainerError.self) {
            _ = try MountRequest.parse(volumes: ["a1:/d"], mounts: [], tmpfs: ["/d/"])
        }
        #expect(error?.message.contains("duplicate mount point: /d") == true)
    }

    @Test(arguments: [("ab", true), ("a", false), ("0.x_y-z", true), ("-ab", false), (".ab", false), ("a/b", false),
                      ("a b", false), ("é1", false), (String(repeating: "a", count: 256), false)])
    func volumeNames(name: String, valid: Bool) {
        #expect(VolumeName.isValid(name) == valid)
    }

    @Test func generatedNamesAre64HexCharacters() {
        let name = VolumeName.generate()
        #expect(name.utf8.count == 64 && name.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) })
        #expect(VolumeName.isValid(name))
        #expect(name != VolumeName.generate())
    }
}
