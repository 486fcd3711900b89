#if canImport(Glibc)
import Glibc
#endif

/// `.dockerignore`: which paths of the context COPY and ADD never see. Docker's rules: one
/// pattern a line, `#` comments, paths cleaned and relative to the context's root, `*` `?` `[…]`
/// within one name, `**` for any number of directories, a pattern that matches a directory
/// matching all below it, `!` re-including what an earlier pattern excluded; the last pattern
/// that matches decides.
public struct DockerIgnore: Sendable, Equatable {
    struct Pattern: Sendable, Equatable {
        var components: [String]
        var exception: Bool
    }

    var patterns: [Pattern]

    public static let none = DockerIgnore(patterns: [])

    public static func parse(_ text: String) -> DockerIgnore {
        var patterns: [Pattern] = []
        for raw in Dockerfile.splitLines(text) {
            var line = raw.trimmingSpace()
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            var exception = false
            if line.hasPrefix("!") {
                exception = true
                line = String(line.dropFirst()).trimmingSpace()
            }
            let components = ContextPath.clean(line).split(separator: "/").map(String.init)
            guard !components.isEmpty else { continue }
            patterns.append(Pattern(components: components, exception: exception))
        }
        return DockerIgnore(patterns: patterns)
    }

    /// Whether `path` (relative to the context's root) is left out.
    public func excludes(_ path: String) -> Bool {
        let components = ContextPath.clean(path).split(separator: "/").map(String.init)
        guard !components.isEmpty else { return false }
        var excluded = false
        for pattern in patterns where pattern.exception == excluded {
            // A pattern matches the path or any directory above it.
            let hit = (1...components.count).contains { Self.match(pattern.components[...], components[..<$0]) }
            if hit { excluded = !pattern.exception }
        }
        return excluded
    }

    /// Whether a directory's walk can stop at it: excluded, and no exception could bring back
    /// anything below it.
    public func prunes(_ directory: String) -> Bool {
        excludes(directory) && !patterns.contains(where: \.exception)
    }

    static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            let rest = pattern.dropFirst()
            for skip in 0...path.count where match(rest, path.dropFirst(skip)) { return true }
            return false
        }
        guard let name = path.first, ContextPath.matches(first, name) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }
}

/// Paths of the build context and of a COPY's sources and destination.
enum ContextPath {
    /// `a/./b/../c/` → `a/c`: no empty, `.` or `..` component (a `..` above the root is
    /// dropped, as Go's Clean of a rooted path does).
    static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    /// Whether a name matches one glob component (`*`, `?`, `[…]`, `\` escapes).
    static func matches(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }

    static func hasGlob(_ path: String) -> Bool {
        path.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }
}
