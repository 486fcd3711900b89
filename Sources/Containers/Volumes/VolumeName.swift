import Runtime

/// Volume names, Docker's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`. A name is a directory under
/// `volumes/`, so the rule also keeps out "/", "." and "..".
public enum VolumeName {
    /// The rule, as error messages say it.
    public static let rule = "two or more of [a-zA-Z0-9_.-], starting with a letter or digit"

    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count >= 2, bytes.count <= 255, let first = bytes.first, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// A new anonymous volume's name: 64 hexadecimal characters, as Docker's (a container id's form).
    public static func generate() -> String { ContainerID.generate() }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
    }
}
