import Foundation
import Testing
@testable import Runtime

extension CgroupTests {
    /// The small pure pieces: event files, path and limit checks, mode detection.
    @Suite("parsing and checks") struct Parsing {
        @Test(arguments: [
            ("low 0\nhigh 0\nmax 12\noom 3\noom_kill 3\noom_group_kill 0\n", 3),
            ("oom_kill_disable 0\nunder_oom 1\noom_kill 5\n", 5),
            ("oom_kill_disable 0\nunder_oom 0\n", 0),  // v1 before 4.13: no counter
            ("oom_group_kill 4\noom_kill 1", 1),       // a longer key is not a match
            ("", 0),
        ])
        func oomKillsAreRead(text: String, kills: Int) {
            #expect(CgroupEventsParser.events(fromMemoryEvents: text) == CgroupEvents(oomKills: kills))
        }

        @Test(arguments: ["", "/", "//", "..", "berth/../x", "./x", "berth/."])
        func pathsOutsideTheHierarchyAreRefused(raw: String) throws {
            let fs = try FakeCgroupFS(.unified())
            for driver in [fs.v2Driver() as any CgroupDriver, fs.v1Driver()] {
                let error = try #require(throws: RuntimeError.self) {
                    try driver.create(CgroupPath(raw), limits: ResourceLimits())
                }
                #expect(error.code == .invalidArgument)
                #expect(throws: RuntimeError.self) { try driver.destroy(CgroupPath(raw)) }
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: fs.root).sorted()
                == ["cgroup.controllers", "cgroup.procs", "cgroup.subtree_control"])
        }

        @Test(arguments: [
            ("berth/abc", "berth/abc"), ("/berth/abc", "berth/abc"), ("//berth///abc//", "berth/abc"),
            ("a", "a"), ("/", ""), ("", ""), ("///", ""), ("x/./y", "x/./y"),
        ])
        func pathsAreKeptWithSingleSlashesAndNoneAtTheEnds(raw: String, relative: String) {
            #expect(CgroupPath(raw).relative == relative)
        }

        @Test func containerPathsLiveUnderTheSharedParent() {
            #expect(CgroupPath.container(id: "abc").relative == "berth/abc")
            #expect(CgroupPath.container(id: "abc").description == "/berth/abc")
        }

        @Test(arguments: [
            (ResourceLimits(memoryBytes: 0), "memory limit must be a positive number of bytes, not 0"),
            (ResourceLimits(memoryBytes: -1), "memory limit must be a positive number of bytes, not -1"),
            (ResourceLimits(cpu: CPUBandwidth(quotaMicros: 0)), "CPU limit must be a positive quota and period, not 0 µs per 100000 µs"),
            (ResourceLimits(cpu: CPUBandwidth(quotaMicros: 10, periodMicros: -5)),
             "CPU limit must be a positive quota and period, not 10 µs per -5 µs"),
            (ResourceLimits(pidsLimit: -1), "pids limit must be positive, not -1"),
        ])
        func nonsenseLimitsAreRefusedBeforeAnythingIsMade(limits: ResourceLimits, sentence: String) throws {
            let fs = try FakeCgroupFS(.legacy())
            let error = try #require(throws: RuntimeError.self) {
                try fs.v1Driver().create(CgroupPath.container(id: "x"), limits: limits)
            }
            #expect(error.code == .invalidArgument)
            #expect(error.description == sentence)
            #expect(!fs.exists("memory/berth"))
        }

        @Test func fixtureRootsAreDetected() throws {
            let unified = try FakeCgroupFS(.unified())
            let legacy = try FakeCgroupFS(.legacy())
            #expect(CgroupModeDetector.detect(root: unified.root) == .unified)
            #expect(CgroupModeDetector.detect(root: legacy.root) == .legacy)
            #expect(CgroupModeDetector.detect(root: "/nonexistent/cgroup") == .legacy)
        }

        @Test func theFactoryPicksTheDriverForTheMode() throws {
            #expect(makeCgroupDriver(mode: .unified) is CgroupV2Driver)
            #expect(makeCgroupDriver(mode: .legacy) is CgroupV1Driver)
            let fs = try FakeCgroupFS(.unified())
            let driver = makeCgroupDriver(root: fs.root)
            #expect(driver.mode == .unified)
            #expect((driver as? CgroupV2Driver)?.root == fs.root)
        }

        /// Agrees with the mount table: unified exactly when /sys/fs/cgroup itself is cgroup2
        /// (on this hybrid host the cgroup2 mount sits at /sys/fs/cgroup/unified instead).
        @Test func theHostIsDetectedAsItsMountTableSays() throws {
            let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
            let rootIsCgroup2 = mounts.split(separator: "\n").contains { line in
                let fields = line.split(separator: " ")
                return fields.count > 2 && fields[1] == "/sys/fs/cgroup" && fields[2] == "cgroup2"
            }
            #expect(CgroupModeDetector.detect() == (rootIsCgroup2 ? .unified : .legacy))
        }
    }
}
