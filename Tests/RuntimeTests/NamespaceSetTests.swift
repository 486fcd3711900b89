import CSpawn
import Testing
@testable import Runtime

// <linux/sched.h>, written out so the test does not share the code's constants.
private let newNS: UInt = 0x0002_0000
private let newCgroup: UInt = 0x0200_0000
private let newUTS: UInt = 0x0400_0000
private let newIPC: UInt = 0x0800_0000
private let newUser: UInt = 0x1000_0000
private let newPID: UInt = 0x2000_0000
private let newNet: UInt = 0x4000_0000

/// The namespace set and the clone flags it turns into.
@Suite("Namespace set") struct NamespaceSetTests {
    @Test(arguments: [
        (NamespaceSet.mount, newNS), (.pid, newPID), (.uts, newUTS), (.ipc, newIPC), (.network, newNet),
    ])
    func eachNamespaceMapsToItsFlag(namespace: NamespaceSet, flag: UInt) {
        #expect(namespace.cloneFlags == flag)
    }

    @Test func containerDefaultHasEveryCloneFlagButCgroup() {
        let flags = NamespaceSet.containerDefault.cloneFlags
        #expect(flags == newNS | newPID | newUTS | newIPC | newNet)
        #expect(flags & newCgroup == 0)
        #expect(flags & newUser == 0)
        #expect(NamespaceSet.containerDefault.contains(.cgroup))
    }

    @Test func cgroupIsNeverACloneFlag() {
        #expect(NamespaceSet.cgroup.cloneFlags == 0)
        #expect(NamespaceSet([.cgroup, .mount]).cloneFlags == newNS)
        // Every subset of the six namespaces.
        for raw in UInt8(0)...0x3f {
            #expect(NamespaceSet(rawValue: raw).cloneFlags & newCgroup == 0)
        }
    }

    @Test func hostNetworkDropsOnlyNEWNET() {
        var set = NamespaceSet.containerDefault
        set.remove(.network)
        #expect(set.cloneFlags == newNS | newPID | newUTS | newIPC)
        #expect(set.contains(.cgroup))
    }

    @Test func emptySetClonesNothing() {
        #expect(NamespaceSet().cloneFlags == 0)
    }

    @Test func containerDefaultIsTheSixNamespaces() {
        #expect(NamespaceSet.containerDefault == [.mount, .pid, .uts, .ipc, .network, .cgroup])
        #expect(NamespaceSet.containerDefault.rawValue == 0x3f)
    }

    @Test func sharedConstantsMatchTheKernel() {
        // cloneFlags is built from CSpawn's exported CLONE_NEW* values.
        #expect(berth_clone_newns == newNS)
        #expect(berth_clone_newpid == newPID)
        #expect(berth_clone_newuts == newUTS)
        #expect(berth_clone_newipc == newIPC)
        #expect(berth_clone_newnet == newNet)
        #expect(berth_clone_newcgroup == newCgroup)
    }
}
