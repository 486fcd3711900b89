import CSpawn

/// Generated container names, adjective_surname as Docker makes them ("cranky_curie"), and the
/// rule for names people choose.
public enum ContainerNames {
    static let adjectives = [
        "admiring", "agile", "amazing", "bold", "brave", "busy", "calm", "careful", "charming",
        "clever", "cool", "cranky", "curious", "daring", "dazzling", "eager", "elastic", "elated",
        "epic", "fervent", "festive", "focused", "friendly", "gallant", "gentle", "happy", "hardy",
        "hopeful", "humble", "jolly", "keen", "kind", "lucid", "lucky", "merry", "modest", "nifty",
        "nimble", "patient", "peaceful", "plucky", "quiet", "quirky", "relaxed", "serene", "sharp",
        "sleepy", "steady", "stoic", "sunny", "swift", "tender", "thirsty", "tidy", "upbeat",
        "vibrant", "vigilant", "wizardly", "witty", "zealous",
    ]

    /// Scientists and engineers whose work the machines we run on stand on.
    static let surnames = [
        "babbage", "backus", "bardeen", "bell", "boole", "brattain", "cerf", "clarke", "curie",
        "dijkstra", "einstein", "engelbart", "euler", "faraday", "fermi", "feynman", "franklin",
        "galois", "gauss", "germain", "goldberg", "hamilton", "hawking", "hodgkin", "hopper",
        "kahn", "knuth", "kowalevski", "lamarr", "lamport", "leavitt", "liskov", "lovelace",
        "maxwell", "mccarthy", "meitner", "minsky", "morse", "neumann", "newton", "noether",
        "pascal", "perlman", "planck", "raman", "ritchie", "shannon", "sinoussi", "thompson",
        "torvalds", "turing", "wilkes", "wing", "wozniak", "wright", "yalow", "yonath",
    ]

    /// A random adjective_surname.
    public static func generate() -> String {
        var bytes: (UInt32, UInt32) = (0, 0)
        _ = withUnsafeMutableBytes(of: &bytes) { berth_random_bytes($0.baseAddress, 8) }
        let adjective = adjectives[Int(bytes.0 % UInt32(adjectives.count))]
        let surname = surnames[Int(bytes.1 % UInt32(surnames.count))]
        return adjective + "_" + surname
    }

    /// Whether `name` is written like a full container id (64 lowercase hexadecimal characters):
    /// such a name is refused, since lookups take a full id first.
    public static func looksLikeID(_ name: String) -> Bool {
        name.utf8.count == 64 && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// Docker's rule for a chosen name: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`. It is also a file name in
    /// the store, so the rule keeps it one.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count >= 2, bytes.count <= 128 else { return false }
        func alnum(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
        return alnum(bytes[0]) && bytes.dropFirst().allSatisfy { alnum($0) || $0 == 95 || $0 == 46 || $0 == 45 }
    }

    /// Refuses a chosen name that breaks the rule, or that reads as a container's id, with the
    /// sentence `run --name`, `create --name` and `rename` give.
    public static func check(_ name: String) throws {
        if looksLikeID(name) {
            throw ContainerError(.invalidArgument,
                                 "invalid container name \"\(name)\": 64 hexadecimal characters read as a container's id; choose another name")
        }
        guard isValid(name) else {
            throw ContainerError(.invalidArgument,
                                 "invalid container name \"\(name)\": use two or more letters, digits, '_', '.' and '-', "
                                     + "starting with a letter or digit")
        }
    }
}
