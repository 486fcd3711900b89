import Containers
import ImageStore
import JSON

/// The documents the benchmark reads and writes, made up here rather than shipped: shaped like
/// what Docker and BuildKit write (key names, unknown members berth ignores, digests, history
/// lines), at three sizes, the same bytes on every run (a fixed seed).
public enum DocumentSize: String, CaseIterable, Sendable {
    /// busybox: one layer; an index naming one image.
    case small
    /// A typical application image: 12 layers; an index naming 20 images.
    case medium
    /// The 500-layer image (the overlay lowerdir limit's neighbourhood); an index naming 500.
    case large

    public var layers: Int {
        switch self {
        case .small: 1
        case .medium: 12
        case .large: 500
        }
    }

    public var indexEntries: Int {
        switch self {
        case .small: 1
        case .medium: 20
        case .large: 500
        }
    }
}

/// Fixed pseudo-random text (splitmix64), so every run parses the same bytes.
struct TextSource {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            var word = next()
            for _ in 0..<16 where out.count < count {
                out.append(digits[Int(word & 15)])
                word >>= 4
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func digest() -> String { "sha256:" + hex(64) }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func timestamp() -> String {
        let day = 1 + below(28), hour = below(24), minute = below(60), second = below(60)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "2026-11-\(two(day))T\(two(hour)):\(two(minute)):\(two(second)).\(below(900_000_000) + 100_000_000)Z"
    }
}

/// The generated documents, as the bytes found on disk.
public enum Documents {
    private static let packages = ["curl", "ca-certificates", "tzdata", "libssl3", "python3", "git", "nginx",
                                   "openssh-client", "procps", "less", "jq", "gnupg"]

    /// An image configuration of `size.layers` layers: a history line per layer plus the
    /// empty-layer lines a Dockerfile adds (ENV, WORKDIR, CMD…), a diff_id per layer, and the
    /// members Docker writes that berth's model leaves out (ArgsEscaped, OnBuild, …).
    public static func config(_ size: DocumentSize) -> [UInt8] {
        var text = TextSource(seed: 0xC0F1 &+ UInt64(size.layers))
        var history: [JSONValue] = []
        var diffIDs: [JSONValue] = []
        for layer in 0..<size.layers {
            let createdBy: String
            if layer == 0 {
                createdBy = "/bin/sh -c #(nop) ADD file:\(text.hex(64)) in / "
            } else {
                let package = packages[text.below(packages.count)]
                createdBy = "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends \(package) "
                    + "&& rm -rf /var/lib/apt/lists/* # buildkit"
            }
            var entry: [(key: String, value: JSONValue)] = [
                (key: "created", value: .string(text.timestamp())), (key: "created_by", value: .string(createdBy)),
            ]
            if layer > 0 { entry.append((key: "comment", value: "buildkit.dockerfile.v0")) }
            history.append(.object(entry))
            if layer % 4 == 3 {
                history.append([
                    "created": .string(text.timestamp()),
                    "created_by": .string("ENV APP_STEP_\(layer)=\(text.hex(8))"),
                    "comment": "buildkit.dockerfile.v0", "empty_layer": true,
                ])
            }
            diffIDs.append(.string(text.digest()))
        }
        let config: JSONValue = [
            "architecture": "amd64",
            "config": [
                "User": "1000:1000",
                "ExposedPorts": ["8080/tcp": [:], "8443/tcp": [:]],
                "Env": [
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
                    "APP_HOME=/srv/app", "APP_VERSION=4.2.1", "TZ=UTC",
                ],
                "Entrypoint": ["/usr/local/bin/docker-entrypoint.sh"],
                "Cmd": ["app", "serve", "--port", "8080"],
                "Volumes": ["/srv/app/data": [:]],
                "WorkingDir": "/srv/app",
                "Labels": [
                    "org.opencontainers.image.source": "https://example.invalid/app",
                    "org.opencontainers.image.version": "4.2.1",
                    "org.opencontainers.image.revision": .string(text.hex(40)),
                    "maintainer": "platform team",
                ],
                "StopSignal": "SIGQUIT",
                "ArgsEscaped": true,
                "OnBuild": .null,
            ],
            "created": .string(text.timestamp()),
            "history": .array(history),
            "os": "linux",
            "rootfs": ["type": "layers", "diff_ids": .array(diffIDs)],
        ]
        return JSON.serialize(config)
    }

    /// The manifest of that image: its config and one gzip layer per diff_id.
    public static func manifest(_ size: DocumentSize) -> [UInt8] {
        var text = TextSource(seed: 0x3A41 &+ UInt64(size.layers))
        var layers: [JSONValue] = []
        for _ in 0..<size.layers {
            layers.append([
                "mediaType": .string(OCIImage.MediaType.layerGzip), "digest": .string(text.digest()),
                "size": .number(JSONNumber(1_000 + text.below(80_000_000))),
            ])
        }
        let manifest: JSONValue = [
            "schemaVersion": 2,
            "mediaType": .string(OCIImage.MediaType.manifest),
            "config": ["mediaType": .string(OCIImage.MediaType.config), "digest": .string(text.digest()),
                       "size": .number(JSONNumber(800 + text.below(60_000)))],
            "layers": .array(layers),
        ]
        return JSON.serialize(manifest)
    }

    /// The store's index.json with `size.indexEntries` tagged images, as berth writes it.
    public static func index(_ size: DocumentSize) -> [UInt8] {
        var text = TextSource(seed: 0x1D3C &+ UInt64(size.indexEntries))
        var entries: [JSONValue] = []
        for n in 0..<size.indexEntries {
            entries.append([
                "mediaType": .string(OCIImage.MediaType.manifest), "digest": .string(text.digest()),
                "size": .number(JSONNumber(400 + text.below(3_000))),
                "annotations": [OCIImage.refNameAnnotation: .string("registry.example/team/app-\(n):v\(text.below(100))")],
                "platform": ["architecture": "amd64", "os": "linux"],
            ])
        }
        let index: JSONValue = [
            "schemaVersion": 2, "mediaType": .string(OCIImage.MediaType.index), "manifests": .array(entries),
        ]
        return JSON.serialize(index)
    }

    /// A container record (containers/<id>/config.json), as a detached `berth run -d` leaves it.
    public static func record() -> [UInt8] {
        var text = TextSource(seed: 0x5EC0)
        let id = text.hex(64)
        var record = ContainerRecord(
            id: id, name: "web-frontend", created: text.timestamp(), path: "/usr/local/bin/docker-entrypoint.sh",
            args: ["app", "serve", "--port", "8080"], image: text.digest(), imageManifest: text.digest(),
            state: ContainerState(status: .running, pid: 48213, startedAt: text.timestamp()),
            config: ContainerSettings(
                image: "registry.example/team/app:4.2.1", hostname: String(id.prefix(12)), user: "1000:1000",
                env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
                      "APP_HOME=/srv/app", "APP_VERSION=4.2.1", "TZ=UTC", "APP_MODE=production"],
                cmd: ["app", "serve", "--port", "8080"], entrypoint: ["/usr/local/bin/docker-entrypoint.sh"],
                workingDir: "/srv/app", tty: false, openStdin: false, stopSignal: "SIGQUIT"),
            hostConfig: HostSettings(
                autoRemove: false, binds: ["/srv/data:/srv/app/data:ro", "/var/log/app:/srv/app/log"],
                memory: 512 * 1024 * 1024, nanoCpus: 1_500_000_000, pidsLimit: 200, readonlyRootfs: false,
                networkMode: "none", privileged: false, cgroupParent: "berth", cgroup: "berth/" + id,
                restartPolicy: RestartPolicy(name: "on-failure", maximumRetryCount: 5)))
        record.restartCount = 1
        return JSON.serialize(record.json)
    }

    /// One line of a json-file container log, what `berth logs` reads line by line.
    public static func logLine() -> [UInt8] {
        let line: JSONValue = [
            "log": "10.0.0.7 - - [06/Dec/2026:06:12:44 +0000] \"GET /api/v1/items?page=3 HTTP/1.1\" 200 5123 \"-\" \"curl/8.5.0\"\n",
            "stream": "stdout", "time": "2026-12-06T06:12:44.418204377Z",
        ]
        return JSON.serialize(line)
    }

    /// An OCI runtime spec (a bundle's config.json) as an engine writes it for a container with
    /// limits, a user, bind mounts and a seccomp profile of Docker's size (about 350 allowed
    /// system calls in one rule, a few conditional rules).
    public static func runtimeSpec() -> [UInt8] {
        var text = TextSource(seed: 0x0C1)
        let capabilities: JSONValue = [
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
            "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
            "CAP_AUDIT_WRITE",
        ]
        func mount(_ destination: String, _ type: String, _ source: String, _ options: [String]) -> JSONValue {
            ["destination": .string(destination), "type": .string(type), "source": .string(source),
             "options": .array(options.map(JSONValue.string))]
        }
        var allowed: [JSONValue] = []
        for _ in 0..<350 { allowed.append(.string("syscall_\(text.hex(6))")) }
        let spec: JSONValue = [
            "ociVersion": "1.2.0",
            "process": [
                "terminal": false,
                "user": ["uid": 1000, "gid": 1000, "additionalGids": [10, 1000]],
                "args": ["/usr/local/bin/docker-entrypoint.sh", "app", "serve", "--port", "8080"],
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=web-1",
                        "LANG=C.UTF-8", "APP_HOME=/srv/app"],
                "cwd": "/srv/app",
                "capabilities": ["bounding": capabilities, "effective": capabilities, "permitted": capabilities],
                "rlimits": [["type": "RLIMIT_NOFILE", "hard": 1_048_576, "soft": 1_048_576]],
                "noNewPrivileges": true,
                "oomScoreAdj": 0,
            ],
            "root": ["path": .string("/var/lib/berth/containers/\(text.hex(64))/rootfs"), "readonly": false],
            "hostname": "web-1",
            "mounts": [
                mount("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
                mount("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
                mount("/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
                mount("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
                mount("/sys/fs/cgroup", "cgroup", "cgroup", ["ro", "nosuid", "noexec", "nodev"]),
                mount("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
                mount("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]),
                mount("/srv/app/data", "bind", "/srv/data", ["rbind", "ro", "rprivate"]),
            ],
            "linux": [
                "namespaces": [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"],
                               ["type": "mount"], ["type": "cgroup"]],
                "resources": [
                    "memory": ["limit": 536_870_912, "swap": 536_870_912],
                    "cpu": ["shares": 1024, "quota": 150_000, "period": 100_000],
                    "pids": ["limit": 200],
                    "devices": [["allow": false, "access": "rwm"],
                                ["allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"]],
                ],
                "cgroupsPath": .string("berth/\(text.hex(64))"),
                "seccomp": [
                    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
                    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                    "syscalls": [
                        ["names": .array(allowed), "action": "SCMP_ACT_ALLOW"],
                        ["names": ["personality"], "action": "SCMP_ACT_ALLOW",
                         "args": [["index": 0, "value": 0, "op": "SCMP_CMP_EQ"]]],
                        ["names": ["clone"], "action": "SCMP_ACT_ALLOW",
                         "args": [["index": 0, "value": 2_114_060_288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"]]],
                    ],
                ],
                "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                                "/proc/scsi"],
                "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            ],
        ]
        return JSON.serialize(spec)
    }
}
