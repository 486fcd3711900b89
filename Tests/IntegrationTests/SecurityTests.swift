import Testing

extension Containers {
    /// Capabilities, no_new_privs and the default seccomp profile, seen from inside.
    @Suite("Privileges")
    struct Privileges {
        let fixture = Fixture.shared

        /// Docker's 14 default capabilities as a CapEff mask.
        static let defaultMask = "00000000a80425fb"

        @Test("root in the container has exactly Docker's default capabilities, nothing inheritable or ambient")
        func defaultCapabilities() throws {
            let r = try fixture.run([], ["/bin/sh", "-c", "grep -E '^Cap' /proc/self/status"])
            #expect(r.output.contains("CapEff:\t\(Self.defaultMask)"))
            #expect(r.output.contains("CapBnd:\t\(Self.defaultMask)"))
            #expect(r.output.contains("CapInh:\t0000000000000000"))
            #expect(r.output.contains("CapAmb:\t0000000000000000"))
        }

        @Test("--cap-drop ALL --cap-add NET_BIND_SERVICE leaves exactly that one")
        func capDropAdd() throws {
            let r = try fixture.run(["--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE"],
                                    ["/bin/sh", "-c", "grep CapEff /proc/self/status"])
            #expect(r.output == "CapEff:\t0000000000000400")
        }

        @Test("a non-root user has no effective capabilities")
        func nonRoot() throws {
            let r = try fixture.run(["-u", "1000"], ["/bin/sh", "-c", "grep -E 'CapEff|CapPrm' /proc/self/status"])
            #expect(r.output == "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000")
        }

        @Test("unshare, mount and keyctl are refused; no_new_privs is set")
        func seccompAndNoNewPrivs() throws {
            let r = try fixture.run([], ["/bin/payload", "denied"])
            #expect(r.output == "unshare=Operation not permitted mount=Operation not permitted keyctl=Operation not permitted nnp=1")
        }

        @Test("--privileged keeps every capability and lifts seccomp")
        func privileged() throws {
            let r = try fixture.run(["--privileged"], ["/bin/payload", "denied"])
            #expect(r.output.hasPrefix("unshare=ok mount=ok"))
        }

        @Test("--ulimit sets a resource limit")
        func ulimit() throws {
            let r = try fixture.run(["--ulimit", "nofile=256:512"], ["/bin/payload", "rlimit"])
            #expect(r.output == "nofile 256 512")
        }
    }
}
