// swift-tools-version: 6.2
import PackageDescription

// libFuzzer targets for berth's parsers of untrusted input (Fuzz/README.md): one executable per
// parser, each defining LLVMFuzzerTestOneInput. A package of its own, built only by Fuzz/run.sh
// with -sanitize=fuzzer,address, so the product's Package.swift and its release build gain nothing.

// A path dependency's identity is the name of its directory, which is whatever the clone was
// called (wt-fuzz here, something else in CI), so it is worked out from where this file sits.
let berth: String = {
    let parts = #filePath.split(separator: "/").dropLast(2)
    return parts.last.map(String.init) ?? "berth"
}()

let strictSwift: [SwiftSetting] = [.treatAllWarnings(as: .error)]
// berth's own executable links libarchive's dependencies by name for the static build; an
// executable that links ImageStore needs the same list.
let archiveLibraries: [LinkerSetting] = [
    .linkedLibrary("lzma"), .linkedLibrary("zstd"), .linkedLibrary("bz2"), .linkedLibrary("z"),
]

/// A fuzz target: one file whose @main hands its test function to libFuzzer's driver
/// (`runFuzzer`); -sanitize=fuzzer links the driver in.
func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: "fuzz-" + name, dependencies: ["FuzzSupport"] + dependencies, path: "Sources/" + name,
                      swiftSettings: strictSwift, linkerSettings: archiveLibraries)
}

let package = Package(
    name: "berth-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        // What every target shares: the input as text, and the one way to report a broken property.
        .target(name: "FuzzSupport", dependencies: [.product(name: "JSON", package: berth)],
                swiftSettings: strictSwift),
        fuzzTarget("image-reference", [.product(name: "ImageStore", package: berth)]),
        fuzzTarget("json", [.product(name: "JSON", package: berth)]),
        fuzzTarget("oci-image", [.product(name: "ImageStore", package: berth), .product(name: "JSON", package: berth)]),
        fuzzTarget("layer-tar", [.product(name: "ImageStore", package: berth)]),
        fuzzTarget("run-flags", [.product(name: "Runtime", package: berth), .product(name: "Containers", package: berth)]),
        fuzzTarget("user-spec", [.product(name: "Runtime", package: berth)]),
        fuzzTarget("seccomp-profile", [.product(name: "Runtime", package: berth), .product(name: "JSON", package: berth)]),
    ]
)
