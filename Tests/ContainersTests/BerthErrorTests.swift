import Containers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// berth's one error type: one sentence, whatever module threw it.
@Suite("berth's error") struct ContainerErrorTests {
    @Test func oneSentenceWithTheEntryTheStepAndTheErrno() {
        #expect(ContainerError(.notFound, "no such container: web").description == "no such container: web")
        #expect(ContainerError.system("cannot read /x", errno: ENOENT).description == "cannot read /x: no such file or directory")
        #expect(ContainerError(.unsafePath, entry: "../evil", "leaves the layer").description == "layer entry \"../evil\": leaves the layer")
        #expect(ContainerError(.systemError, "cannot start the container", errno: EPERM, step: "pivot_root").description
                == "cannot start the container (pivot_root): operation not permitted")
    }

    @Test func contextSaysWhatBerthWasDoingFirst() {
        let inner = ContainerError(.corrupt, "blob sha256:ab is damaged")
        let outer = inner.context("load busybox.tar")
        #expect(outer.description == "load busybox.tar: blob sha256:ab is damaged" && outer.code == .corrupt)
    }

    @Test(arguments: [(ContainerError.Code.notExecutable, Int32(126)), (.commandNotFound, 127), (.systemError, 125), (.invalidState, 125)])
    func dockersRunExitCodes(code: ContainerError.Code, exit: Int32) {
        #expect(ContainerError(code, "x").runExitCode == exit)
    }

    @Test func codesTravelAsTheirNames() {
        for code in [ContainerError.Code.notExecutable, .commandNotFound, .invalidState, .systemError] {
            #expect(ContainerError.Code(rawValue: code.rawValue) == code)
        }
    }
}
