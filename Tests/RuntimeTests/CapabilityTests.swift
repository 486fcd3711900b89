#if canImport(Glibc)
import Glibc
#endif
import Testing
import Runtime

@Suite("Capabilities") struct CapabilityTests {
    /// The running kernel's answer, read independently of the code under test.
    static let kernelLastCap: Int = {
        let fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = read(fd, &buffer, buffer.count)
        return Int(String(decoding: buffer[0..<max(count, 0)], as: UTF8.self)
            .filter { !$0.isWhitespace }) ?? -1
    }()

    @Suite("parsing names") struct Parsing {
        @Test(arguments: [
            ("CAP_CHOWN", 0), ("chown", 0), ("Cap_Chown", 0), ("CAP_DAC_OVERRIDE", 1), ("kill", 5),
            ("net_bind_service", 10), ("NET_ADMIN", 12), ("cap_net_raw", 13), ("SYS_ADMIN", 21),
            ("Sys_Ptrace", 19), ("CAP_MKNOD", 27), ("audit_write", 29), ("SETFCAP", 31),
        ])
        func goodName(name: String, bit: Int) throws {
            #expect(try CapabilitySet(names: [name]).bits == UInt64(1) << UInt64(bit))
        }

        @Test(arguments: ["ALL", "all", "All"])
        func allMeansEveryCapabilityOfTheKernel(name: String) throws {
            #expect(try CapabilitySet(names: [name]) == .all)
        }

        @Test(arguments: [
            "CAP_FOO", "", "cap_", "12", "CAP_12", "NET ADMIN", "CAP_ALL", "chown!", "CAPCHOWN",
            // Letters outside ASCII, and a combining accent, are no capability's.
            "ＣＡＰ_CHOWN", "cap_chöwn", "cap_chown\u{301}", "ｃｈｏｗｎ", "ALL\u{301}",
        ])
        func badNameIsNamedInTheError(name: String) {
            let error = #expect(throws: RuntimeError.self) { try CapabilitySet(names: ["CHOWN", name]) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.description == "unknown capability \"\(name)\"")
        }

        @Test func severalNamesAreOred() throws {
            let set = try CapabilitySet(names: ["CHOWN", "CAP_KILL", "chown"])
            #expect(set.bits == 0b10_0001)
            #expect(set.names == ["CAP_CHOWN", "CAP_KILL"])
        }

        @Test func namesRoundTrip() throws {
            #expect(try CapabilitySet(names: CapabilitySet.all.names) == .all)
            #expect(CapabilitySet.all.names.allSatisfy { $0.hasPrefix("CAP_") })
        }
    }

    @Suite("sets") struct Sets {
        @Test func containerDefaultIsDockersFourteen() {
            let set = CapabilitySet.containerDefault
            #expect(set.bits == 0xa804_25fb)
            #expect(set.names == [
                "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
                "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT",
                "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP",
            ])
        }

        @Test func allFollowsTheKernel() {
            let last = CapabilityTests.kernelLastCap
            #expect(last >= 37)
            #expect(CapabilitySet.all.bits == (UInt64(1) << UInt64(last + 1)) - 1)
            #expect(CapabilitySet.all.contains(.containerDefault))
        }

        @Test func rootGetsTheSetAsBoundingEffectiveAndPermitted() {
            let caps = ProcessCapabilities.forUser(uid: 0, set: .containerDefault)
            #expect(caps == ProcessCapabilities(bounding: .containerDefault, effective: .containerDefault,
                                                permitted: .containerDefault, inheritable: .empty, ambient: .empty))
        }

        @Test(arguments: [1, 1000, 65534] as [UInt32])
        func otherUsersGetTheSetAsBoundingOnly(uid: UInt32) {
            let caps = ProcessCapabilities.forUser(uid: uid, set: .containerDefault)
            #expect(caps == ProcessCapabilities(bounding: .containerDefault, effective: .empty,
                                                permitted: .empty, inheritable: .empty, ambient: .empty))
        }
    }

    /// `--cap-add` / `--cap-drop` on top of the default set, with Docker's results.
    @Suite("add and drop") struct AddDrop {
        static let base = CapabilitySet.containerDefault

        @Test(arguments: [
            ([], ["ALL"], [String]()),
            (["NET_BIND_SERVICE"], ["ALL"], ["CAP_NET_BIND_SERVICE"]),
            (["net_admin", "CAP_SYS_PTRACE"], ["all"], ["CAP_NET_ADMIN", "CAP_SYS_PTRACE"]),
            (["CHOWN"], ["CHOWN"], CapabilitySet.containerDefault.names),
        ])
        func dropsFirstThenAdds(add: [String], drop: [String], expected: [String]) throws {
            #expect(try Self.base.applying(add: add, drop: drop).names == expected)
        }

        @Test func addingAllKeepsTheDrops() throws {
            let set = try Self.base.applying(add: ["ALL"], drop: ["MKNOD", "cap_net_raw"])
            #expect(set == CapabilitySet.all.removing(try CapabilitySet(names: ["MKNOD", "NET_RAW"])))
        }

        @Test func addAndDropSingleCapabilities() throws {
            let set = try Self.base.applying(add: ["SYS_ADMIN"], drop: ["NET_RAW", "MKNOD"])
            #expect(set.contains(try CapabilitySet(names: ["SYS_ADMIN", "CHOWN"])))
            #expect(!set.contains(try CapabilitySet(names: ["NET_RAW"])))
            #expect(!set.contains(try CapabilitySet(names: ["MKNOD"])))
            #expect(set.names.count == 13)
        }

        @Test func unknownNameInAddOrDropThrows() {
            #expect(throws: RuntimeError.self) { try Self.base.applying(add: ["NET_ADMN"], drop: []) }
            #expect(throws: RuntimeError.self) { try Self.base.applying(add: [], drop: ["SYS_ADMN"]) }
        }

        @Test func setAlgebra() {
            let a = CapabilitySet(bits: 0b0110)
            #expect(a.adding(CapabilitySet(bits: 0b1001)).bits == 0b1111)
            #expect(a.removing(CapabilitySet(bits: 0b0100)).bits == 0b0010)
            #expect(a.contains(CapabilitySet(bits: 0b0010)))
            #expect(!a.contains(CapabilitySet(bits: 0b0011)))
            #expect(CapabilitySet.empty.isEmpty && !a.isEmpty)
        }
    }

    @Suite("from config.json") struct FromOCI {
        @Test func convertsTheFiveSets() throws {
            let oci = OCIRuntimeSpec.Capabilities(
                bounding: ["CAP_CHOWN", "CAP_KILL"], effective: ["CAP_KILL"], inheritable: [],
                permitted: ["CAP_KILL"], ambient: nil)
            let caps = try ProcessCapabilities(oci: oci)
            #expect(caps.bounding.names == ["CAP_CHOWN", "CAP_KILL"])
            #expect(caps.effective.names == ["CAP_KILL"])
            #expect(caps.permitted.names == ["CAP_KILL"])
            #expect(caps.inheritable.isEmpty && caps.ambient.isEmpty)
        }

        @Test func unknownNameThrows() {
            #expect(throws: RuntimeError.self) {
                try ProcessCapabilities(oci: OCIRuntimeSpec.Capabilities(bounding: ["CAP_NOPE"]))
            }
        }
    }
}
