/// What a user may type to name an image: a reference (`busybox:1.35`), an image id or a unique
/// prefix of one (`3f2a1b`, `sha256:3f2a…`), or a manifest digest prefix. Text like `abc123`
/// parses as both; the store tries the tag first and the id second, as Docker does.
public struct ImageName: Sendable, Hashable, CustomStringConvertible {
    /// The text as typed, for messages.
    public let text: String
    /// The reference the text spells, when it parses as one.
    public let reference: ImageReference?
    /// Lowercase hex (3…64 characters) the text spells, without `sha256:`, when it could be an id.
    public let idPrefix: String?

    /// The fewest hex characters taken as an id prefix: fewer would match half the store.
    public static let minimumPrefixLength = 3

    public var description: String { text }

    /// Parses `text`; fails with `.invalidReference` (the reference parser's sentence, which names
    /// the text and what is wrong) when it is neither a reference nor an id.
    public static func parse(_ text: String) throws -> ImageName {
        var hex = Substring(text)
        let prefixed = hex.hasPrefix("sha256:")
        if prefixed { hex = hex.dropFirst("sha256:".count) }
        let isHex = (minimumPrefixLength...64).contains(hex.utf8.count)
            && hex.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
        let idPrefix = isHex ? String(hex) : nil
        if prefixed {
            guard let idPrefix else {
                throw ImageStoreError(.invalidReference, "invalid image id \"\(text)\": expected sha256: followed by "
                                          + "\(minimumPrefixLength) to 64 lowercase hex characters")
            }
            return ImageName(text: text, reference: nil, idPrefix: idPrefix)
        }
        do {
            return ImageName(text: text, reference: try ImageReference.parse(text), idPrefix: idPrefix)
        } catch {
            guard let idPrefix else { throw error }
            return ImageName(text: text, reference: nil, idPrefix: idPrefix)
        }
    }
}
