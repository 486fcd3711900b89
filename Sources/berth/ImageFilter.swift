import CommandLineParsing
import ImageStore
#if canImport(Glibc)
import Glibc
#endif

/// `images --filter`: dangling=true|false, reference=PATTERN (a shell pattern against the
/// repository or repository:tag), label=KEY or KEY=VALUE. Values of one key are alternatives;
/// different keys must all match.
struct ImageFilter {
    private(set) var terms: [String: [String]] = [:]

    static let keys = ["dangling", "reference", "label"]

    init(_ flags: [String]) throws(UsageError) {
        for flag in flags {
            let parts = flag.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw UsageError("bad filter \"\(flag)\": give KEY=VALUE (keys: \(Self.keys.joined(separator: ", ")))")
            }
            guard Self.keys.contains(parts[0]) else {
                throw UsageError("unknown filter \"\(parts[0])\": use one of \(Self.keys.joined(separator: ", "))")
            }
            if parts[0] == "dangling", parts[1] != "true", parts[1] != "false" {
                throw UsageError("filter dangling=\(parts[1]): use true or false")
            }
            terms[parts[0], default: []].append(parts[1])
        }
    }

    /// Untagged images are listed when the filter asks for dangling ones.
    var wantsDangling: Bool { terms["dangling"]?.contains("true") == true }

    /// Whether the image passes; `labels` is asked only when a label filter is given.
    func matches(_ image: ImageSummary, labels: () -> [String: String]) -> Bool {
        let dangling = image.reference == ImageSummary.untaggedReference
        let (repository, _) = splitReference(image.reference)
        for (key, values) in terms {
            let matched = values.contains { value in
                switch key {
                case "dangling": return (value == "true") == dangling
                case "reference":
                    return !dangling && (fnmatch(value, repository, 0) == 0 || fnmatch(value, image.reference, 0) == 0)
                case "label":
                    let parts = value.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                    guard let label = labels()[parts[0]] else { return false }
                    return parts.count == 1 || label == parts[1]
                default: return false
                }
            }
            if !matched { return false }
        }
        return true
    }
}
