// swift-tools-version: 6.2
import PackageDescription

// The JSON benchmark (Benchmarks/json.sh): berth's own JSON module against FoundationEssentials'
// JSONDecoder and JSONEncoder, on the documents berth reads and writes. A package of its own, so
// the product's Package.swift gains nothing but the library products this one imports.

// A path dependency's identity is the name of its directory, which is whatever the clone was
// called (wt-json here, something else in CI), so it is worked out from where this file sits.
let berth: String = {
    let parts = #filePath.split(separator: "/").dropLast(3)
    return parts.last.map(String.init) ?? "berth"
}()

let strictSwift: [SwiftSetting] = [.treatAllWarnings(as: .error)]
// berth's own executable links libarchive's dependencies by name for the static build; an
// executable that links ImageStore needs the same list.
let archiveLibraries: [LinkerSetting] = [
    .linkedLibrary("lzma"), .linkedLibrary("zstd"), .linkedLibrary("bz2"), .linkedLibrary("z"),
]

let package = Package(
    name: "json-bench",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "../..")],
    targets: [
        // The documents (generated, of three sizes) and the three ways to read and write each.
        .target(
            name: "JSONBenchDocuments",
            dependencies: [
                .product(name: "JSON", package: berth),
                .product(name: "ImageStore", package: berth),
                .product(name: "Containers", package: berth),
                .product(name: "Runtime", package: berth),
            ],
            swiftSettings: strictSwift
        ),
        // Steady-state time per document, each variant in turn, in one process.
        .executableTarget(name: "json-bench", dependencies: ["JSONBenchDocuments"],
                          swiftSettings: strictSwift, linkerSettings: archiveLibraries),
        // One decode in a fresh process: what a berth command pays the first time it reads JSON.
        .executableTarget(name: "json-startup", dependencies: ["JSONBenchDocuments"],
                          swiftSettings: strictSwift, linkerSettings: archiveLibraries),
        // A static Swift executable that does nothing: the floor under json-startup.
        .executableTarget(name: "json-empty", swiftSettings: strictSwift),
    ]
)
