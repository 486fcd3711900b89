// swift-tools-version: 6.2
import PackageDescription

// Warnings are errors everywhere in our own code (STYLE.md).
let strictSwift: [SwiftSetting] = [.treatAllWarnings(as: .error)]
let strictC: [CSetting] = [.unsafeFlags(["-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"])]

let package = Package(
    name: "berth",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "berth", targets: ["berth"]),
        .library(name: "Runtime", targets: ["Runtime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // The only code that runs between clone() and execve() in the child: plain C,
        // async-signal-safe, no allocation (DESIGN.md, "The spawn path").
        .target(name: "CSpawn", cSettings: strictC),
        .systemLibrary(name: "CLibcap", pkgConfig: "libcap",
                       providers: [.apt(["libcap-dev"])]),
        .systemLibrary(name: "CLibseccomp", pkgConfig: "libseccomp",
                       providers: [.apt(["libseccomp-dev"])]),
        .target(
            name: "Runtime",
            dependencies: [
                "CSpawn", "CLibcap", "CLibseccomp",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
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
                "CommandLineParsing",
                .product(name: "Logging", package: "swift-log"),
            ],
            // Release builds are made with --static-swift-stdlib (see README): a dynamically
            // linked Swift runtime and Foundation cost milliseconds at every start.
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: ["Runtime", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strictSwift
        ),
        // The CLI's argument parsing and flag-to-config conversion, without root.
        .testTarget(name: "BerthCLITests", dependencies: ["berth", "CommandLineParsing"], swiftSettings: strictSwift),
        .testTarget(name: "CommandLineParsingTests", dependencies: ["CommandLineParsing"], swiftSettings: strictSwift),
        // End-to-end tests: they run the built `berth` as root against a busybox root and a
        // static payload (Fixtures/payload.c) that checks the container from the inside.
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Runtime"],
            exclude: ["Fixtures"],
            swiftSettings: strictSwift
        ),
    ]
)
