import Testing
@testable import Containers

/// `berth info`'s readings of /proc texts and filesystem magic numbers.
@Suite("host info") struct HostInfoTests {
    @Test func filesystemNames() {
        #expect(FilesystemNames.name(ofMagic: 0xEF53) == "extfs")
        #expect(FilesystemNames.name(ofMagic: 0x5846_5342) == "xfs")
        #expect(FilesystemNames.name(ofMagic: 0x794C_7630) == "overlay")
        #expect(FilesystemNames.name(ofMagic: 0x1234) == "unknown (magic 0x1234)")
    }

    @Test func overlayNeedsTheFilesystemAndAnUpperItCanUse() {
        let listed = "nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\toverlay\n"
        #expect(ContainerEngine.overlaySupport(filesystem: "extfs", filesystems: listed).available)
        let onOverlay = ContainerEngine.overlaySupport(filesystem: "overlay", filesystems: listed)
        #expect(!onOverlay.available && onOverlay.detail.contains("the state root is on overlay"))
        let missing = ContainerEngine.overlaySupport(filesystem: "extfs", filesystems: "nodev\tsysfs\n\text4\n")
        #expect(!missing.available && missing.detail.contains("modprobe overlay"))
    }

    @Test func seccompAndUserNamespaces() {
        #expect(ContainerEngine.seccompSupport(status: "Name:\tx\nSeccomp:\t0\nSeccomp_filters:\t0\n").available)
        #expect(!ContainerEngine.seccompSupport(status: "Name:\tx\n").available)
        #expect(ContainerEngine.userNamespaceSupport(maximum: "15000\n") == HostInfo.Support(available: true, detail: "at most 15000"))
        #expect(!ContainerEngine.userNamespaceSupport(maximum: "0\n").available)
    }
}
