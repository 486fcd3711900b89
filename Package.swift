// swift-tools-version: 6.2
import PackageDescription

// Warnings are errors everywhere in our own code (STYLE.md).
// Concrete generic types' metadata through accessors rather than by mangled name: the compiler
// otherwise has the runtime demangle each one at its first use, and a type with a requirement
// (a dictionary keyed by String needs String: Hashable) makes the runtime look the conformance up
// by walking all of the binary's 7 000 conformance records. About 1 ms of CPU per `berth run`
// (Benchmarks/README.md, issue 19), for 70 KB of code. `.ci/build-release` gives the dependencies
// the same flag (swift-crypto's SHA256 walked them too); a manifest cannot.
let strictSwift: [SwiftSetting] = [.treatAllWarnings(as: .error),
                                   .unsafeFlags(["-Xfrontend", "-function-sections",
                                                 "-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"])]
// berth's start path laid out side by side (Benchmarks/link-order.py, Benchmarks/README.md): each
// function in a section of its own, and lld told the order of the ones a run touches, so that the
// pages a run maps are few (the kernel maps a touched page's cached neighbours too).
let startPathLayout = ["-use-ld=lld",
                       "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/berth/link-order.txt",
                       "-Xlinker", "--no-warn-symbol-ordering"]
    + (Context.environment["BERTH_LINK_MAP"].map { ["-Xlinker", "-Map=\($0)"] } ?? [])
let strictC: [CSetting] = [.unsafeFlags(["-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-ffunction-sections"])]

let package = Package(
    name: "berth",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "berth", targets: ["berth"]),
        .executable(name: "berth-oci", targets: ["berth-oci"]),
        .library(name: "Runtime", targets: ["Runtime"]),
        // For the JSON benchmark's package (Benchmarks/json), which measures these modules' JSON.
        .library(name: "JSON", targets: ["JSON"]),
        .library(name: "ImageStore", targets: ["ImageStore"]),
        .library(name: "Containers", targets: ["Containers"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // HTTP/1.1 and TLS for the registry client only (issue 17); nothing on the run path
        // creates its event loops.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // async-http-client's own, named for the types the registry code uses (ByteBuffer,
        // HTTPMethod, TLSConfiguration): nothing more is built or linked.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The only code that runs between clone() and execve() in the child: plain C,
        // async-signal-safe, no allocation (DESIGN.md, "The spawn path").
        .target(name: "CSpawn", cSettings: strictC),
        .systemLibrary(name: "CLibcap", pkgConfig: "libcap",
                       providers: [.apt(["libcap-dev"])]),
        .systemLibrary(name: "CLibseccomp", pkgConfig: "libseccomp",
                       providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CLibarchive", pkgConfig: "libarchive",
                       providers: [.apt(["libarchive-dev"])]),
        // libyaml's parser, for Compose files: a C library of its own, not Yams (which needs
        // Foundation and ICU).
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1",
                       providers: [.apt(["libyaml-dev"])]),
        // File-system calls Swift's Glibc module leaves out (xattrs, pipe2), for the layer code.
        .target(name: "CFileSystem", cSettings: strictC),
        // berth's one error type, which every module throws and the CLI prints as one sentence.
        .target(name: "BerthErrors", swiftSettings: strictSwift),
        // The one set of file helpers (whole writes, atomic replace, listing, fd-based tree
        // removal, overlay lookup) that ImageStore, Runtime and Containers share.
        .target(
            name: "FileSystem",
            dependencies: ["CFileSystem", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strictSwift
        ),
        // JSON without Foundation: image configs and OCI specs are read on berth's hot paths.
        .target(name: "JSON", swiftSettings: strictSwift),
        // Content-addressed OCI image layout, layers unpacked for overlayfs, commit, GC.
        // Knows nothing of processes (DESIGN.md).
        .target(
            name: "ImageStore",
            dependencies: [
                "BerthErrors", "CLibarchive", "CFileSystem", "FileSystem", "JSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "Runtime",
            dependencies: [
                "BerthErrors", "CSpawn", "CFileSystem", "FileSystem", "CLibcap", "CLibseccomp",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSwift
        ),
        // rtnetlink and nf_tables map elements spoken directly: one message per step of a
        // container's network, no library state to fill first.
        .target(name: "CNetlink", cSettings: strictC),
        // Bridges, veth pairs, address leases, berth's nftables table, published ports, the
        // name files: a network namespace (a pid) onto a network. Knows nothing else of containers.
        .target(
            // BerthNetwork, not Network: a module of that name is taken for Apple's framework by
            // async-http-client's and swift-nio-transport-services' `#if canImport(Network)`.
            name: "BerthNetwork",
            dependencies: ["BerthErrors", "CFileSystem", "CNetlink", "FileSystem", "JSON"],
            path: "Sources/Network",
            swiftSettings: strictSwift
        ),
        // The container engine (DESIGN.md's `Containers`): create, run, start, stop, kill, exec,
        // restart policies and removal, over records, names and logs on disk.
        .target(
            name: "Containers",
            dependencies: [
                "BerthErrors", "CSpawn", "CFileSystem", "FileSystem", "JSON", "Runtime", "ImageStore", "BerthNetwork",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        // Images from Dockerfiles (DESIGN.md's `Build`): the Dockerfile's parser, the builder
        // (RUN steps through the engine, layers through the image store, ADD's URLs through the
        // registry module's HTTP client) and its cache.
        .target(
            name: "Build",
            dependencies: ["BerthErrors", "Containers", "CSpawn", "FileSystem", "ImageStore", "JSON", "Registry", "Runtime"],
            swiftSettings: strictSwift
        ),
        // The small per-container monitor of a detached container, in C: it reaps the init, logs
        // its output (json-file) and execs berth's exit handler (issue 5). SwiftPM links it with
        // swiftc, which would add the Swift runtime (and libstdc++): 4-5 MiB of RSS per
        // container. -nostartfiles drops swiftrt.o, the only reference to that runtime, and a
        // static executable then pulls in nothing of it: ~0.7 MiB, and no dependency on the
        // toolchain's libraries at run time.
        .executableTarget(name: "berth-monitor", path: "Sources/berth-monitor", cSettings: strictC,
                         linkerSettings: [.unsafeFlags(["-nostartfiles", "-static-executable"])]),
        // What a container's process execs before its command, from a sealed memfd, so that it is
        // never berth's own binary (CVE-2019-5736): no C library and no start files (its own
        // _start, system calls in syscall.h), 8 KiB to copy for each container. The stack
        // protector's canary would need the thread pointer that only a C library sets up.
        .executableTarget(name: "berth-entry", path: "Sources/berth-entry",
                         cSettings: strictC + [.headerSearchPath("../CSpawn/include"),
                                               .unsafeFlags(["-ffreestanding", "-fno-stack-protector", "-fno-builtin"])],
                         linkerSettings: [.unsafeFlags(["-nostartfiles", "-static-executable",
                                                          "-Xclang-linker", "-nostdlib"])]),
        // The OCI distribution client (DESIGN.md's `Registry`): manifests and indexes, the
        // token flow, blobs streamed and verified into the image store, pull and push.
        .target(
            name: "Registry",
            dependencies: [
                "BerthErrors", "FileSystem", "ImageStore", "JSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // NIOConnectionError, to say a failed connection as the system does.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSwift
        ),
        // Compose files (a YAML reader on libyaml that keeps lines, the compose-spec model) and
        // their projects carried out through the engine's API: networks, volumes, services; and
        // proxied services: HAProxy driven through its runtime API, and deploys that move a
        // service's instances to a new version without losing a request (issue 15).
        .target(
            name: "Compose",
            dependencies: ["BerthErrors", "Build", "Containers", "CSpawn", "ImageStore", "BerthNetwork", "CYAML", "FileSystem", "JSON"],
            swiftSettings: strictSwift
        ),
        // The OCI runtime's state machine (bundle, create/start/state/kill/delete, its state root)
        // on Runtime's launcher: what berth-oci calls. Knows nothing of images or records.
        .target(
            name: "OCIRuntime",
            dependencies: [
                "BerthErrors", "CFileSystem", "CSpawn", "FileSystem", "JSON", "Runtime",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        // berth's command line, declared as data: no reflection and no Foundation, which cost
        // milliseconds and megabytes at every start (swift-argument-parser did both).
        .target(name: "CommandLineParsing", swiftSettings: strictSwift),
        .executableTarget(
            name: "berth",
            dependencies: [
                "Runtime",
                "ImageStore",
                "Containers",
                "BerthNetwork",
                "Compose",
                "Build",
                "Registry",
                "JSON",
                "FileSystem",
                "CommandLineParsing",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["link-order.txt"],
            // Release builds are made with --static-swift-stdlib (see README): a dynamically
            // linked Swift runtime and Foundation cost milliseconds at every start.
            swiftSettings: strictSwift,
            // A static executable links libarchive's own dependencies by name (pkg-config's
            // --static list, less those of the formats berth never asks for: xar's libxml2 and
            // ICU, and the ACL and crypto code of archive_write_disk and the zip reader).
            linkerSettings: [.linkedLibrary("lzma"), .linkedLibrary("zstd"), .linkedLibrary("bz2"), .linkedLibrary("z"),
                             .unsafeFlags(startPathLayout)]
        ),
        // runc's command line for podman, containerd and Kubernetes (issue 18): parses, calls
        // OCIRuntime, prints. berth never execs it.
        .executableTarget(
            name: "berth-oci",
            dependencies: [
                "OCIRuntime", "Runtime", "BerthErrors", "CommandLineParsing", "FileSystem", "JSON",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(name: "FileSystemTests", dependencies: ["FileSystem", "CFileSystem"], swiftSettings: strictSwift),
        .testTarget(name: "JSONTests", dependencies: ["JSON"], swiftSettings: strictSwift),
        .testTarget(name: "NetworkTests", dependencies: ["BerthNetwork", "JSON"], swiftSettings: strictSwift),
        .testTarget(name: "ImageStoreTests", dependencies: ["ImageStore"], swiftSettings: strictSwift),
        .testTarget(
            name: "RegistryTests",
            dependencies: ["Registry", "ImageStore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSwift
        ),
        .testTarget(name: "ComposeTests", dependencies: ["Compose", "Containers", "BerthErrors", "JSON"], swiftSettings: strictSwift),
        .testTarget(name: "BuildTests", dependencies: ["Build", "ImageStore"], swiftSettings: strictSwift),
        .testTarget(name: "ContainersTests", dependencies: ["Containers", "JSON"], swiftSettings: strictSwift),
        .testTarget(
            name: "RuntimeTests",
            dependencies: ["Runtime", "CFileSystem", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strictSwift
        ),
        // The CLI's argument parsing and flag-to-config conversion, without root.
        .testTarget(name: "BerthCLITests", dependencies: ["berth", "CommandLineParsing", "Containers", "ImageStore", "JSON"], swiftSettings: strictSwift),
        .testTarget(name: "CommandLineParsingTests", dependencies: ["CommandLineParsing"], swiftSettings: strictSwift),
        // End-to-end tests: they run the built `berth` as root against a busybox root and a
        // static payload (Fixtures/payload.c) that checks the container from the inside.
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Runtime", "Containers", "CFileSystem", .product(name: "Logging", package: "swift-log")],
            exclude: ["Fixtures"],
            swiftSettings: strictSwift
        ),
    ]
)
