import FuzzSupport
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `-u user[:group]` against an image's own /etc/passwd and /etc/group, which the image's author
/// wrote: the input is the spec, a newline, the passwd file, a NUL byte and the group file. berth
/// refuses the spec exactly when libc and runc would, and otherwise gives the ids they would read
/// (lines split at the newline byte and trimmed, fields at ':', names compared as bytes; the first
/// entry that matches), within 0...Int32.max.
@main
enum UserSpecFuzz {
    static func main() { runFuzzer(testOneInput) }
}

/// `<tmp>/etc/passwd` and `<tmp>/etc/group`, written for each input.
private let root: String = {
    var template = Array("\(String(cString: getenv("TMPDIR") ?? strdup("/tmp")))/berth-fuzz-user.XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed: errno \(errno)") }
    let path = String(cString: made)
    guard mkdir(path + "/etc", 0o755) == 0 else { fatalError("mkdir \(path)/etc failed: errno \(errno)") }
    return path
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let specEnd = input.bytes.firstIndex(of: UInt8(ascii: "\n")) ?? input.bytes.endIndex
    let spec = String(decoding: input.bytes[..<specEnd], as: UTF8.self)
    let files = input.bytes[min(specEnd + 1, input.bytes.endIndex)...]
    let passwdEnd = files.firstIndex(of: 0) ?? files.endIndex
    let passwd = Array(files[..<passwdEnd]), group = Array(files[min(passwdEnd + 1, files.endIndex)...])
    write(passwd, to: root + "/etc/passwd")
    write(group, to: root + "/etc/group")

    let expected = resolved(spec, passwd: passwd, group: group)
    do {
        let user = try UserSpec.resolve(spec, roots: [root])
        check(user.uid <= UInt32(Int32.max) && user.gid <= UInt32(Int32.max), "ids within 0...Int32.max", input)
        check(expected.map { $0 == (user.uid, user.gid) } ?? false,
              "-u \(spec) is \(user.uid):\(user.gid), the files say \(expected.map { "\($0.uid):\($0.gid)" } ?? "no such user")", input)
    } catch let error as BerthError {
        check([.invalidArgument, .notFound].contains(error.code) && !error.message.isEmpty, "a refusal says why", input)
        check(expected == nil, "-u \(spec) refused (\(error.message)), the files say \(expected.map { "\($0.uid):\($0.gid)" } ?? "")", input)
    } catch {
        propertyFailed("threw \(error), not a BerthError", input)
    }
    return 0
}

/// What libc and runc make of `-u spec` with these files: a name is looked up by its bytes in the
/// first entry that has it; nil when they would refuse it.
private func resolved(_ spec: String, passwd: [UInt8], group: [UInt8]) -> (uid: UInt32, gid: UInt32)? {
    let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map { Array($0.utf8) }
    guard !parts[0].isEmpty, parts.count == 1 || !parts[1].isEmpty else { return nil }
    func number(_ bytes: [UInt8]) -> UInt32? { UInt32(String(decoding: bytes, as: UTF8.self)) }
    var uid: UInt32, gid: UInt32 = 0
    if let n = number(parts[0]) {
        uid = n
        if let entry = entries(passwd).first(where: { $0.count > 3 && $0[2] == parts[0] }) { gid = number(entry[3]) ?? 0 }
    } else {
        guard let entry = entries(passwd).first(where: { $0[0] == parts[0] }), entry.count > 3,
              let u = number(entry[2]), let g = number(entry[3]) else { return nil }
        uid = u
        gid = g
    }
    if parts.count == 2 {
        if let n = number(parts[1]) {
            gid = n
        } else {
            guard let entry = entries(group).first(where: { $0[0] == parts[1] }), entry.count > 2,
                  let g = number(entry[2]) else { return nil }
            gid = g
        }
    }
    guard uid <= UInt32(Int32.max), gid <= UInt32(Int32.max) else { return nil }
    return (uid, gid)
}

/// The file's entries as libc and runc split them: lines at '\n' (trimmed of spaces and '\r'),
/// fields at ':', by bytes.
private func entries(_ file: [UInt8]) -> [[[UInt8]]] {
    let space: Set<UInt8> = [9, 10, 11, 12, 13, 32]
    return file.split(separator: UInt8(ascii: "\n")).compactMap { line in
        let trimmed = Array(line.drop { space.contains($0) }.reversed().drop { space.contains($0) }.reversed())
        guard !trimmed.isEmpty else { return nil }
        return trimmed.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false).map(Array.init)
    }
}

private func write(_ bytes: [UInt8], to path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { fatalError("cannot write \(path): errno \(errno)") }
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count else { fatalError("cannot write \(path): errno \(errno)") }
}
