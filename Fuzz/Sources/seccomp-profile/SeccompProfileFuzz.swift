import FuzzSupport
import JSON
import Runtime

/// `--security-opt seccomp=FILE`: a Docker or OCI seccomp profile, decoded, resolved against a
/// container's capabilities and compiled to BPF. A profile is refused with an error that names
/// what is wrong, or compiles to a program of whole 8-byte instructions, the same one each time.
@main
enum SeccompProfileFuzz {
    static func main() { runFuzzer(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    guard let document = try? JSON.decode(SeccompProfileDocument.self, from: input.bytes) else { return 0 }
    for capabilities in [CapabilitySet.containerDefault, .empty] {
        let profile: SeccompProfile
        let program: [UInt8]
        do {
            profile = try document.profile(capabilities: capabilities)
            program = try profile.compile(cacheDirectory: nil)
        } catch let error as BerthError {
            check(!error.message.isEmpty, "a refusal says why", input)
            continue
        } catch {
            propertyFailed("threw \(error), not a BerthError", input)
        }
        check(!program.isEmpty && program.count % 8 == 0, "a program of \(program.count) bytes", input)
        check((try? profile.compile(cacheDirectory: nil)) == program, "compiling is deterministic", input)
    }
    return 0
}
