import Containers
import FuzzSupport
import Runtime

/// `berth run`'s flag parsers of user text: --ulimit, -v/--volume, --device, -m/--memory,
/// --restart, --cap-add/--cap-drop and -e. The first byte picks the flag, the rest is its value.
/// Each either refuses with a BerthError naming the value, or returns a value that obeys the
/// flag's rules and whose canonical spelling parses back to the same value.
@main
enum RunFlagsFuzz {
    static func main() { runFuzzer(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    guard let selector = input.bytes.first else { return 0 }
    let text = String(decoding: input.bytes.dropFirst(), as: UTF8.self)
    do {
        switch selector % 7 {
        case 0: try checkUlimit(text, input)
        case 1: try checkVolume(text, input)
        case 2: try checkDevice(text, input)
        case 3: try checkByteSize(text, input)
        case 4: checkRestart(text, input)
        case 5: try checkCapabilities(text, input)
        default: checkEnvironment(text, input)
        }
    } catch let error as BerthError {
        check([.invalidArgument, .notFound].contains(error.code), "a refusal is invalidArgument or notFound, not \(error.code)", input)
        check(!error.message.isEmpty, "a refusal says why", input)
    } catch {
        propertyFailed("threw \(error), not a BerthError", input)
    }
    return 0
}

private func checkUlimit(_ text: String, _ input: FuzzInput) throws {
    let limit = try ResourceLimit.parse(text)
    check(limit.soft <= limit.hard, "soft \(limit.soft) above hard \(limit.hard)", input)
    check((0...15).contains(limit.resource), "RLIMIT \(limit.resource) is not one of Linux's", input)
    func spelled(_ v: UInt64) -> String { v == UInt64.max ? "unlimited" : String(v) }
    let name = text.prefix { $0 != "=" }
    let canonical = "\(name)=\(spelled(limit.soft)):\(spelled(limit.hard))"
    check((try? ResourceLimit.parse(canonical)) == limit, "\(canonical) does not parse to the same limit", input)
}

private func checkVolume(_ text: String, _ input: FuzzInput) throws {
    let mount = try BindMount.parse(text)
    check(mount.source.hasPrefix("/") && mount.destination.hasPrefix("/"), "both paths are absolute", input)
    // Scalar-wise, as the kernel reads the path: a mark before '/' or ':' hides it from a
    // character-wise split.
    let parts = mount.destination.unicodeScalars.split(separator: "/").map { String($0) }
    check(!parts.contains(".."), "the container path has no \"..\"", input)
    check(parts.contains { $0 != "." }, "the container path is not the root", input)
    check(!mount.source.unicodeScalars.contains(":") && !mount.destination.unicodeScalars.contains(":"),
          "no path holds the separator", input)
    let canonical = "\(mount.source):\(mount.destination):\(mount.readOnly ? "ro" : "rw")"
    check((try? BindMount.parse(canonical)) == mount, "\(canonical) does not parse to the same mount", input)
}

private func checkDevice(_ text: String, _ input: FuzzInput) throws {
    let device = try DeviceNode.parse(text)
    let parts = device.path.split(separator: "/")
    check(device.path.hasPrefix("/") && !parts.contains("..") && parts.contains { $0 != "." },
          "the container path \(device.path) is absolute, below the root, without \"..\"", input)
    check(device.kind == .char || device.kind == .block, "a device is a char or block device", input)
    check(device.fileMode <= 0o7777, "the mode holds only permission bits", input)
    check(!device.access.isEmpty && DeviceAccess.all.isSuperset(of: device.access), "the access is letters of rwm", input)
    check(device.rule.allow && device.rule.major == device.major && device.rule.minor == device.minor,
          "its rule allows exactly this device", input)
}

private func checkByteSize(_ text: String, _ input: FuzzInput) throws {
    let bytes = try ByteSize.parse(text)
    check(bytes >= 1, "a size is at least one byte", input)
    check((try? ByteSize.parse(String(bytes))) == bytes, "\(bytes) does not parse to the same size", input)
    check(!ByteSize.describe(bytes).isEmpty, "a size describes itself", input)
}

private func checkRestart(_ text: String, _ input: FuzzInput) {
    guard let policy = RestartPolicy.parse(text) else { return }
    check(["no", "always", "unless-stopped", "on-failure"].contains(policy.name), "unknown policy \(policy.name)", input)
    check(policy.maximumRetryCount >= 0, "a negative retry count", input)
    check(policy.name == "on-failure" || policy.maximumRetryCount == 0, "only on-failure counts retries", input)
    let canonical = policy.maximumRetryCount > 0 ? "\(policy.name):\(policy.maximumRetryCount)" : policy.name
    check(RestartPolicy.parse(canonical) == policy, "\(canonical) parses to another policy", input)
}

/// The value as --cap-add entries before a newline and --cap-drop entries after it, comma-separated.
private func checkCapabilities(_ text: String, _ input: FuzzInput) throws {
    let halves = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    let add = halves[0].split(separator: ",").map(String.init)
    let drop = halves.count > 1 ? halves[1].split(separator: ",").map(String.init) : []
    let set = try CapabilitySet.containerDefault.applying(add: add, drop: drop)
    if add.isEmpty { check(CapabilitySet.containerDefault.contains(set), "dropping only removes", input) }
    if drop.isEmpty { check(set.contains(.containerDefault), "adding only adds", input) }
}

/// The value as -e entries, one a line: a NAME=value entry comes back as itself, and setting
/// them over an environment leaves each name once, with its last value.
private func checkEnvironment(_ text: String, _ input: FuzzInput) {
    let entries = text.split(separator: "\n").map(String.init)
    let resolved = EnvironmentFlags.resolve(entries)
    let given = entries.filter { $0.contains("=") }
    let kept = resolved.map { "\($0.0)=\($0.1)" }.filter { given.contains($0) }
    check(kept.count == given.count, "a NAME=value entry is passed as it is", input)
    let applied = EnvironmentFlags.applying(resolved, to: ["PATH=/bin", "HOME=/"])
    for name in Set(resolved.map(\.0)) {
        guard let value = resolved.last(where: { $0.0 == name })?.1 else { continue }
        let set = applied.filter { $0.hasPrefix(name + "=") }
        check(set == [name + "=" + value], "-e sets \(name) once, to its last value, not \(set)", input)
    }
}
