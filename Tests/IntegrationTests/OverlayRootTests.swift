import Foundation
import Logging
import Runtime
import Testing

extension Containers {
    /// A root made of overlayfs layers, mounted by the child inside the container's own mount
    /// namespace (the launcher's part of the image issue; `berth run IMAGE` builds on it).
    @Suite("Overlay root")
    struct OverlayRootSuite {
        let fixture = Fixture.shared

        /// Runs `command` with an overlay root over `lowers` and returns its stdout and status.
        func run(lowers: [String], in dir: String, _ command: [String]) throws -> (status: Int32, output: String) {
            if let setupError = fixture.setupError { throw FixtureError(message: setupError) }
            for sub in ["upper", "work", "merged", "links"] {
                try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
            }
            var config = ContainerConfig(id: ContainerID.generate(), rootfs: dir + "/merged", args: command,
                                         env: ["PATH=/bin:/usr/bin"])
            config.overlay = OverlayRoot(lowerDirectories: lowers, upperDirectory: dir + "/upper",
                                         workDirectory: dir + "/work", linkDirectory: dir + "/links")
            config.capabilities = ProcessCapabilities.forUser(uid: 0, set: .containerDefault)
            let launcher = Launcher(cgroups: makeCgroupDriver(), cgroupParent: fixture.cgroupParent,
                                    seccompCache: nil, logger: Logger(label: "test"))
            var out: [Int32] = [0, 0]
            guard pipe(&out) == 0 else { throw FixtureError(message: "pipe failed") }
            let devNull = open("/dev/null", O_RDONLY)
            defer { close(devNull) }
            let container: LaunchedContainer
            do {
                container = try launcher.launch(config, io: LaunchIO(stdin: devNull, stdout: out[1], stderr: out[1]))
            } catch {
                close(out[0]); close(out[1])
                throw error
            }
            close(out[1])
            let output = FileHandle(fileDescriptor: out[0], closeOnDealloc: true).readDataToEndOfFile()
            var status: Int32 = 0
            waitpid(container.pid, &status, 0)
            if container.pidfd >= 0 { close(container.pidfd) }
            try? launcher.cgroups.destroy(container.cgroup)
            return ((status >> 8) & 0xff, String(decoding: output, as: UTF8.self))
        }

        func scratch() throws -> String {
            let dir = fixture.workspace.appendingPathComponent("overlay-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            return dir
        }

        @Test("changes land in the upper dir, deletions as whiteouts; nothing is mounted on the host")
        func copyOnWrite() throws {
            let dir = try scratch()
            let r = try run(lowers: [fixture.rootfs], in: dir,
                            ["/bin/sh", "-c", "echo hi > /greeting && rm /etc/motd && cat /greeting && ls /etc/motd 2>&1"])
            #expect(r.status == 1)
            #expect(r.output.hasPrefix("hi\n"))
            #expect(try String(contentsOfFile: dir + "/upper/greeting", encoding: .utf8) == "hi\n")
            var st = stat()
            #expect(lstat(dir + "/upper/etc/motd", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0,
                    "etc/motd should be an overlay whiteout (char 0/0)")
            #expect(FileManager.default.fileExists(atPath: fixture.rootfs + "/etc/motd"), "the lower layer must not change")
            let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
            #expect(!mounts.contains(dir))
        }

        @Test("upper layers hide lower ones, in order")
        func layerOrder() throws {
            let dir = try scratch()
            var lowers: [String] = []
            for name in ["top", "middle"] {
                let layer = dir + "/" + name
                try FileManager.default.createDirectory(atPath: layer + "/data", withIntermediateDirectories: true)
                try (name + "\n").write(toFile: layer + "/data/who", atomically: false, encoding: .utf8)
                try name.write(toFile: layer + "/data/\(name)-only", atomically: false, encoding: .utf8)
                lowers.append(layer)
            }
            let r = try run(lowers: lowers + [fixture.rootfs], in: dir, ["/bin/sh", "-c", "cat /data/who; ls /data"])
            #expect(r.status == 0)
            #expect(r.output == "top\nmiddle-only\ntop-only\nwho\n")
        }

        @Test("an image of 500 layers runs (overlayfs' own limit)")
        func deepImage() throws {
            let dir = try scratch()
            var lowers: [String] = []
            // Long directory names, as real layer paths are: far past one page of options.
            for i in 0..<499 {
                let layer = dir + "/layers/" + String(repeating: "0", count: 56) + String(format: "%08d", i)
                try FileManager.default.createDirectory(atPath: layer, withIntermediateDirectories: true)
                try "\(i)\n".write(toFile: layer + "/layer-\(i)", atomically: false, encoding: .utf8)
                lowers.insert(layer, at: 0)
            }
            let r = try run(lowers: lowers + [fixture.rootfs], in: dir,
                            ["/bin/sh", "-c", "cat /layer-0 /layer-498; ls / | grep -c '^layer-'"])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.output == "0\n498\n499\n")
        }

        @Test("more than 500 layers is refused before anything is created")
        func tooDeep() throws {
            let dir = try scratch()
            let lowers = Array(repeating: fixture.rootfs, count: 501)
            let error = #expect(throws: RuntimeError.self) { try run(lowers: lowers, in: dir, ["/bin/true"]) }
            #expect(error?.description.contains("overlayfs stacks at most 500") == true)
        }
    }
}
