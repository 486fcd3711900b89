#if canImport(Glibc)
import Glibc
#endif

/// The fuzzer's input: the bytes, and the same bytes as text (invalid UTF-8 repaired, as a
/// String made from a command line argument or a file would be).
public struct FuzzInput {
    public let bytes: [UInt8]
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }
}

/// A property the target checks does not hold: says which, with the input, and aborts, which
/// libFuzzer reports as a crash and saves the input for.
public func propertyFailed(_ what: String, _ input: FuzzInput, file: StaticString = #fileID, line: UInt = #line) -> Never {
    let message = "property failed at \(file):\(line): \(what)\n  input: \(String(reflecting: input.text))\n"
    _ = message.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
    abort()
}

/// Checks `condition`, reporting `what` when it is false.
public func check(_ condition: @autoclosure () -> Bool, _ what: @autoclosure () -> String, _ input: FuzzInput,
                  file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { propertyFailed(what(), input, file: file, line: line) }
}

/// One run of a target over one input, as libFuzzer calls it; returns 0.
public typealias FuzzTest = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ test: FuzzTest
) -> Int32

/// Hands the process to libFuzzer's driver with `test` as the target. SwiftPM gives each
/// executable a main of its own (it links the module's entry point as `main`), so libFuzzer's
/// main is not the one that runs; its driver, with the command line, is. (The target still
/// exports its test as LLVMFuzzerTestOneInput: libFuzzer's unused main refers to it.)
public func runFuzzer(_ test: FuzzTest) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, test))
}
