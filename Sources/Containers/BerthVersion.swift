#if canImport(Glibc)
import Glibc
#endif

/// What `berth version` and `berth --version` say about this build.
public enum BerthVersion {
    /// berth's release: raised by hand with each release.
    public static let version = "0.14.0"

    /// The Swift language mode the compiler that built berth supports, to the minor version: the
    /// compiler's own version is not visible to the code, its language version is (and is the
    /// same number for every release toolchain).
    public static let swiftVersion: String = {
        #if swift(>=6.4)
        "6.4 or later"
        #elseif swift(>=6.3)
        "6.3"
        #elseif swift(>=6.2)
        "6.2"
        #elseif swift(>=6.1)
        "6.1"
        #else
        "6.0"
        #endif
    }()

    /// The host's operating system and machine, from uname: ("linux", "x86_64").
    public static func platform() -> (os: String, architecture: String, kernel: String) {
        var names = utsname()
        guard uname(&names) == 0 else { return ("linux", "unknown", "unknown") }
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return (field(names.sysname).lowercased(), field(names.machine), field(names.release))
    }
}
