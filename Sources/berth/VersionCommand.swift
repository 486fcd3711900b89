import CommandLineParsing
import Containers
import Runtime

/// `berth version`: the build and, in short, the host it runs on. Opens no state root: it
/// answers on a host where nothing else works yet.
struct VersionCommand: BerthCommand {
    static let spec = CommandSpec(name: "version", abstract: "Show berth's version and the host it runs on.", usage: "")

    /// `berth --version`.
    static var oneLine: String { "berth version \(BerthVersion.version)" }

    let global: GlobalOptions

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        if let extra = parsed.positionals.first { throw UsageError("version takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let platform = BerthVersion.platform()
        let cgroups = CgroupFacts.gather()
        Output.print("Client:")
        Output.print(KeyValueLines.render([
            (" Version", BerthVersion.version),
            (" Swift version", BerthVersion.swiftVersion),
            (" OS/Arch", "\(platform.os)/\(platform.architecture)"),
            (" Kernel", platform.kernel),
            (" Cgroups", cgroups.layout.rawValue),
            (" Storage root", global.stateRoot),
        ]))
        return 0
    }
}

/// `docker info`'s layout: "Key: value" lines with the values in one column.
enum KeyValueLines {
    static func render(_ pairs: [(String, String)]) -> String {
        let width = pairs.map { $0.0.count }.max() ?? 0
        return pairs.map { key, value in
            key + ":" + String(repeating: " ", count: width - key.count + 2) + value
        }.joined(separator: "\n")
    }
}
