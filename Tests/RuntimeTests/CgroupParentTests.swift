#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SystemPackage
import Testing
@testable import Runtime

extension CgroupTests {
    /// The parent levels of a `--cgroup-parent a/b` (issue 11): the levels berth made go with the
    /// last container below them, a level that existed before stays, and berth's own parent stays.
    @Suite("cgroup parents (fixture)") struct ParentFixture {
        enum Version: String, CaseIterable { case v1, v2 }

        /// The driver, and the directories under the fixture's root that hold one copy of a cgroup.
        func driver(_ fs: FakeCgroupFS) -> (any CgroupDriver, [String]) {
            switch fs.layout {
            case .legacy(let hierarchies): (fs.v1Driver(), hierarchies.map { $0 + "/" })
            case .unified: (fs.v2Driver(), [""])
            }
        }

        func fixture(_ version: Version) throws -> FakeCgroupFS {
            try FakeCgroupFS(version == .v1 ? .legacy() : .unified())
        }

        @Test(arguments: Version.allCases)
        func theLevelsMadeForAContainerGoWithIt(_ version: Version) throws {
            let fs = try fixture(version)
            let (driver, bases) = driver(fs)
            let path = CgroupPath("a/b/abc")
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            #expect(fs.marked == Set(bases.flatMap { [$0 + "a", $0 + "a/b"] }), "only the parent levels are marked")
            try driver.destroy(path)
            for base in bases { #expect(!fs.exists(base + "a"), "\(base)a stays behind") }
        }

        @Test(arguments: Version.allCases)
        func aLevelThatExistedStaysAndSoDoesWhatIsAboveIt(_ version: Version) throws {
            let fs = try fixture(version)
            let (driver, bases) = driver(fs)
            for base in bases {
                try fs.makeCgroup(relative: base + "a")
                try fs.makeCgroup(relative: base + "a/b")
            }
            let path = CgroupPath("a/b/c/abc")
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            try driver.destroy(path)
            for base in bases {
                #expect(!fs.exists(base + "a/b/c"))
                #expect(fs.exists(base + "a/b"), "a parent that existed before is never removed")
            }
        }

        @Test(arguments: Version.allCases)
        func aSharedLevelGoesWithTheLastContainerBelowIt(_ version: Version) throws {
            let fs = try fixture(version)
            let (driver, bases) = driver(fs)
            let first = CgroupPath("a/b/one"), second = CgroupPath("a/b/two")
            try driver.create(first, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            try driver.create(second, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            try driver.destroy(first)
            for base in bases { #expect(fs.exists(base + "a/b/two")) }
            try driver.destroy(second)
            for base in bases { #expect(!fs.exists(base + "a")) }
        }

        @Test(arguments: Version.allCases)
        func berthsOwnParentIsNeverMarked(_ version: Version) throws {
            let fs = try fixture(version)
            let (driver, bases) = driver(fs)
            let path = CgroupPath.container(id: "abc")
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            #expect(fs.marked.isEmpty)
            try driver.destroy(path)
            for base in bases { #expect(fs.exists(base + CgroupPath.containerParent)) }
        }

        @Test func aFailedCreateTakesBackTheLevelsItMade() throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory", "cpu"]))
            #expect(throws: RuntimeError.self) {
                try fs.v1Driver().create(CgroupPath("a/b/abc"), limits: ResourceLimits(pidsLimit: 5))
            }
            #expect(!fs.exists("memory/a") && !fs.exists("cpu/a"))
        }

        /// Another berth removes a marked level between this create's mkdir of it (EEXIST) and the
        /// mkdir of the level below: the walk starts again and makes the level anew.
        @Test(arguments: Version.allCases)
        func aLevelRemovedDuringTheWalkIsMadeAgain(_ version: Version) throws {
            let fs = try fixture(version)
            let (_, bases) = driver(fs)
            for base in bases { try fs.makeCgroup(relative: base + "a") }
            let removal = OneRemoval()
            var syscalls = fs.syscalls
            let make = syscalls.makeDirectory, remove = syscalls.removeDirectory
            syscalls.makeDirectory = { path throws(Errno) in
                do throws(Errno) {
                    try make(path)
                } catch .fileExists where path.hasSuffix("/a") {
                    // The concurrent removal, once, right after this walk found the level.
                    if removal.claim() { try remove(path) }
                    throw .fileExists
                }
            }
            let driver: any CgroupDriver = version == .v1
                ? CgroupV1Driver(root: fs.root, syscalls: syscalls, removalTimeout: .milliseconds(100))
                : CgroupV2Driver(root: fs.root, syscalls: syscalls, removalTimeout: .milliseconds(100))
            let path = CgroupPath("a/abc")
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            #expect(removal.happened)
            for base in bases { #expect(fs.exists(base + "a/abc")) }
        }
    }

    /// A removal that happens once, whichever hierarchy's walk comes first.
    final class OneRemoval: Sendable {
        private let done = Mutex(false)

        /// True for the first caller only.
        func claim() -> Bool { done.withLock { done in defer { done = true }; return !done } }

        var happened: Bool { done.withLock { $0 } }
    }

    /// The same on the host's kernel, through the trusted xattr: v1 here (hybrid), and the
    /// hybrid host's cgroup2 mount or a pure v2 host for the v2 driver.
    @Suite("cgroup parents (host kernel)") struct ParentKernel {
        @Test(.enabled(if: HostCgroups.hasV1, "needs root and cgroup v1 memory, cpu and pids hierarchies"))
        func v1() throws {
            try check(CgroupV1Driver(), hierarchies: ["memory", "cpu", "pids"].map { HostCgroups.root + "/" + $0 })
        }

        @Test(.enabled(if: HostCgroups.hasV2 || HostCgroups.hasHybridUnified, "needs root and a cgroup2 mount"))
        func v2() throws {
            let root = HostCgroups.hasV2 ? HostCgroups.root : HostCgroups.hybridUnifiedRoot
            try check(CgroupV2Driver(root: root), hierarchies: [root])
        }

        /// A test parent that exists before (as an administrator's would), two containers under
        /// levels made for them: the levels stay while one container is left, and go with the
        /// last; the test parent stays.
        func check(_ driver: any CgroupDriver, hierarchies: [String]) throws {
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: hierarchies) }
            for hierarchy in hierarchies { #expect(mkdir(hierarchy + "/" + parent, 0o755) == 0) }
            let first = CgroupPath(parent + "/a/b/one"), second = CgroupPath(parent + "/a/b/two")
            try driver.create(first, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            try driver.create(second, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            try driver.destroy(first)
            for hierarchy in hierarchies { #expect(HostCgroups.exists("\(hierarchy)/\(parent)/a/b/two")) }
            try driver.destroy(second)
            for hierarchy in hierarchies {
                #expect(!HostCgroups.exists("\(hierarchy)/\(parent)/a"), "the levels made for the containers stay")
                #expect(HostCgroups.exists("\(hierarchy)/\(parent)"), "the parent that existed is removed")
            }
        }
    }
}
