import FuzzSupport
import ImageStore

/// `ImageReference.parse` (every image name a user or an archive gives) and `Digest`: either an
/// ImageStoreError with a message, or a reference whose parts obey the distribution spec's rules
/// and whose printed form parses back to the same reference.
@main
enum ImageReferenceFuzz {
    static func main() { runFuzzer(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let text = input.text
    if let digest = Digest(text) {
        check(digest.description == text, "a digest prints as it was written", input)
        check(digest.hex.utf8.count == 64, "a digest has 64 hex characters", input)
    }
    let reference: ImageReference
    do {
        reference = try ImageReference.parse(text)
    } catch let error as ImageStoreError {
        check(error.code == .invalidReference && !error.message.isEmpty, "a refusal is invalidReference with a message", input)
        return 0
    } catch {
        propertyFailed("parse threw \(error), not an ImageStoreError", input)
    }
    check(reference.tag != nil || reference.digest != nil, "a reference has a tag or a digest", input)
    check(!reference.path.isEmpty && !reference.path.hasPrefix("/") && !reference.path.hasSuffix("/"),
          "the path \"\(reference.path)\" has no empty component", input)
    check(reference.path == reference.path.lowercased(), "the path is lowercase", input)
    check(!reference.path.contains(":") && !reference.path.contains("@"), "the path holds no ':' or '@'", input)
    if let tag = reference.tag {
        check(!tag.isEmpty && tag.utf8.count <= 128 && !tag.contains("/") && !tag.contains(":"), "the tag \"\(tag)\" is a tag", input)
    }
    let printed = reference.description
    do {
        let again = try ImageReference.parse(printed)
        check(again == reference, "\"\(printed)\" parses back to \(again), not \(reference)", input)
        check(again.description == printed, "the printed form is stable", input)
    } catch {
        propertyFailed("the printed form \"\(printed)\" does not parse: \(error)", input)
    }
    return 0
}
