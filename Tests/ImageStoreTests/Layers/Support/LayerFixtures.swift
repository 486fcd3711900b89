import Foundation
import Testing
@testable import ImageStore

/// Shared helpers of the layer tests: temporary directories, shell commands, and unpack/pack
/// between files and directories.
enum LayerFixtures {
    static let isRoot = getuid() == 0

    /// A fresh directory under /tmp (ext4 here: trusted and security xattrs, holes), removed by `remove`.
    static func makeTemporaryDirectory(_ tag: String) throws -> String {
        var template = Array("/tmp/berth-layers-\(tag)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        guard let made else { throw FixtureError("mkdtemp failed: errno \(errno)") }
        return made
    }

    /// Removes a test directory without crossing into anything still mounted below it (a test
    /// that failed before its unmount must not take a host directory with it).
    static func remove(_ path: String) {
        guard path.hasPrefix("/tmp/berth-layers-") else { return }
        _ = try? sh("rm -rf --one-file-system '\(path)'")
    }

    /// Runs `script` with /bin/sh and returns its stdout; throws with stderr on a non-zero exit.
    @discardableResult
    static func sh(_ script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError("`\(script)` exited \(process.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Runs a python3 program (tarfile builds the hostile tars GNU tar refuses to write).
    static func python(_ program: String) throws {
        let file = try makeTemporaryDirectory("py") + "/make.py"
        defer { remove((file as NSString).deletingLastPathComponent) }
        try program.write(toFile: file, atomically: false, encoding: .utf8)
        try sh("python3 '\(file)'")
    }

    static func unpack(_ tarFile: String, into directory: String,
                       options: LayerUnpacker.Options = .init(),
                       observer: LayerStreamObserver = .init()) throws -> LayerUnpackResult {
        let fd = open(tarFile, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FixtureError("cannot open \(tarFile)") }
        defer { close(fd) }
        return try LayerUnpacker(options: options).unpack(from: fd, into: directory, observer: observer)
    }

    static func pack(_ directory: String, to tarFile: String,
                     options: LayerPacker.Options = .init(),
                     observer: LayerStreamObserver = .init()) throws -> LayerPackResult {
        let fd = open(tarFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FixtureError("cannot create \(tarFile)") }
        defer { close(fd) }
        return try LayerPacker(options: options).pack(directory: directory, to: fd, observer: observer)
    }

    static func setXattr(_ path: String, _ name: String, _ value: [UInt8]) throws {
        guard XattrTarget.path(Array(path.utf8)).set(name, value) else {
            throw FixtureError("setxattr \(name) on \(path): errno \(errno)")
        }
    }

    static func mknod(_ path: String, _ type: mode_t, major: UInt32, minor: UInt32, mode: mode_t = 0o644) throws {
        guard Glibc.mknod(path, type | mode, LayerFS.makeDevice(major: major, minor: minor)) == 0,
              chmod(path, mode) == 0 else {
            throw FixtureError("mknod \(path): errno \(errno)")
        }
    }

    static func lstatOf(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    /// Every path below `directory` ("" for nothing), sorted: what a test compares before and after
    /// to prove a hostile layer wrote nothing outside its directory.
    static func listing(_ directory: String) throws -> [String] {
        try sh("cd '\(directory)' && find . -mindepth 1 | LC_ALL=C sort").split(separator: "\n").map(String.init)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
