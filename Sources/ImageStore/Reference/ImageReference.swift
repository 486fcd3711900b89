import FileSystem

/// A reference to an image the way Docker spells it: `[registry[:port]/]path[:tag][@digest]`,
/// e.g. `busybox:1.35`, `me/greeting`, `localhost:5000/team/app:v2`,
/// `busybox@sha256:…`. Without a tag or digest the tag is `latest`.
///
/// Normalised as Docker reads names: `busybox`, `library/busybox`, `docker.io/library/busybox`
/// and `index.docker.io/library/busybox` are one reference. Its fields hold Docker's familiar
/// (short) form, which is one spelling per image: that is what the store's tags hold and what
/// `images` shows, so stores written before normalisation keep their names. The registry's
/// own spelling (`docker.io/library/busybox`) is `domain` and `remotePath`.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// Docker Hub's name as references spell it.
    public static let dockerHub = "docker.io"
    /// The Hub's old name, which Docker still accepts for it.
    static let dockerHubAlias = "index.docker.io"
    /// The Hub's namespace of official images: `busybox` is `library/busybox` there.
    static let officialNamespace = "library/"

    /// The registry host (and port), when it is not Docker Hub.
    public let registry: String?
    /// The slash-separated repository path, lowercase, in the familiar form (`busybox`,
    /// `me/greeting`).
    public let path: String
    public let tag: String?
    public let digest: Digest?

    /// `registry/path`, or `path` alone. A Hub path whose first component reads as a host
    /// (`docker.io/docker.io/app`) keeps its `docker.io/`: written bare, it would name another
    /// registry.
    public var name: String {
        if let registry { return registry + "/" + path }
        if let slash = path.firstIndex(of: "/"), Self.looksLikeRegistry(path[..<slash]) {
            return Self.dockerHub + "/" + path
        }
        return path
    }

    /// The registry to talk to: `docker.io` for the Hub.
    public var domain: String { registry ?? Self.dockerHub }

    /// The repository as the registry names it: the Hub's official images are `library/NAME`.
    public var remotePath: String {
        registry == nil && !path.contains("/") ? Self.officialNamespace + path : path
    }

    /// `docker.io/library/busybox`: the name with its registry, as Docker's fully qualified form.
    public var qualifiedName: String { domain + "/" + remotePath }

    /// The form stored as the OCI `org.opencontainers.image.ref.name` annotation.
    public var description: String {
        var text = name
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest.description }
        return text
    }

    public init(registry: String?, path: String, tag: String?, digest: Digest?) {
        self.registry = registry
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    /// Parses `text`, adding the tag `latest` when neither a tag nor a digest is given.
    public static func parse(_ text: String) throws -> ImageReference {
        func fail(_ why: String) -> ImageStoreError {
            ImageStoreError(.invalidReference, "invalid image reference \"\(text)\": \(why)")
        }
        guard !text.isEmpty else { throw fail("it is empty") }

        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            guard let parsed = Digest(String(rest[rest.index(after: at)...])) else {
                throw fail("the digest after @ must be sha256: and 64 lowercase hex characters")
            }
            digest = parsed
            rest = rest[..<at]
        }

        // A colon after the last slash starts the tag; one before it belongs to a registry port.
        var tag: String?
        let lastSlash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            let candidate = String(rest[rest.index(after: colon)...])
            guard isValidTag(candidate) else {
                throw fail("the tag \"\(candidate)\" must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
            }
            tag = candidate
            rest = rest[..<colon]
        }

        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var registry: String?
        if components.count > 1, let first = components.first, looksLikeRegistry(first) {
            guard isValidRegistry(first) else { throw fail("the registry \"\(first)\" is not a host name with an optional port") }
            // The Hub's spellings leave registry nil: the familiar form has none.
            if first != dockerHub && first != dockerHubAlias { registry = first }
            components.removeFirst()
        }
        // On the Hub, `library/busybox` is `busybox` (a deeper `library/a/b` stays as it is).
        if registry == nil && components.count == 2 && components[0] + "/" == officialNamespace {
            components.removeFirst()
        }
        guard !components.isEmpty, !components.contains(where: \.isEmpty) else {
            throw fail("the name has an empty path component")
        }
        for component in components {
            if component.contains(where: { $0.isUppercase }) {
                throw fail("repository names must be lowercase")
            }
            guard isValidPathComponent(component) else {
                throw fail("\"\(component)\" is not a valid name component (lowercase letters and digits, separated by '.', '_', '__' or '-')")
            }
        }
        // The distribution spec's limit is on the name alone: a limit on the whole text would
        // accept a 250-character name without a tag and refuse its stored form, with ":latest".
        let reference = ImageReference(registry: registry, path: components.concatenated(separator: "/"),
                                       tag: tag ?? (digest == nil ? "latest" : nil), digest: digest)
        guard reference.name.utf8.count <= 255 else { throw fail("the name is longer than 255 characters") }
        return reference
    }

    /// Docker's rule for the first of several components: a host when it has a '.' or a ':', or
    /// is `localhost`.
    static func looksLikeRegistry(_ component: some StringProtocol) -> Bool {
        component.contains(".") || component.contains(":") || component == "localhost"
    }

    /// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`, the distribution spec's path component.
    static func isValidPathComponent(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        func alnum(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
        guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last) else { return false }
        var i = 0
        while i < bytes.count {
            if alnum(bytes[i]) { i += 1; continue }
            // A separator: ".", "_", "__", or a run of "-", always followed by an alphanumeric.
            var j = i
            switch bytes[i] {
            case UInt8(ascii: "."): j += 1
            case UInt8(ascii: "_"): j += bytes.count > i + 1 && bytes[i + 1] == UInt8(ascii: "_") ? 2 : 1
            case UInt8(ascii: "-"): while j < bytes.count && bytes[j] == UInt8(ascii: "-") { j += 1 }
            default: return false
            }
            guard j < bytes.count, alnum(bytes[j]) else { return false }
            i = j
        }
        return true
    }

    /// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    static func isValidTag(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        func word(_ b: UInt8) -> Bool {
            (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == UInt8(ascii: "_")
        }
        guard let first = bytes.first, bytes.count <= 128, word(first) else { return false }
        return bytes.allSatisfy { word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// A host name (labels of letters, digits and '-', separated by '.') with an optional port.
    static func isValidRegistry(_ s: String) -> Bool {
        let parts = s.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard let port = Int(parts[1]), (1...65535).contains(port) else { return false }
        }
        let labels = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        func alnum(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
        return !labels.isEmpty && labels.allSatisfy { label in
            guard let first = label.first, let last = label.last, alnum(first), alnum(last) else { return false }
            return label.allSatisfy { alnum($0) || $0 == "-" }
        }
    }
}
