import Containers
import Runtime
import Foundation
import JSON
import Testing

/// A temporary state root, removed when the value goes away.
final class TemporaryRoot {
    let path: String

    init() throws {
        var template = Array("/tmp/berth-ut-containers-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func makeRecord(id: String = randomID(), name: String = "") -> ContainerRecord {
    ContainerRecord(
        id: id, name: name, created: Timestamp.now(), path: "/bin/sh", args: ["-c", "true"],
        image: "sha256:" + String(repeating: "a", count: 64), imageManifest: "sha256:" + String(repeating: "b", count: 64),
        config: ContainerSettings(image: "busybox", hostname: "h", user: "", env: [], cmd: ["sh"], entrypoint: nil,
                                  workingDir: "", tty: false, openStdin: false),
        hostConfig: HostSettings(autoRemove: false, binds: [], memory: 0, nanoCpus: 0, pidsLimit: 0, readonlyRootfs: false,
                                 networkMode: "none", privileged: false, cgroupParent: "berth", cgroup: "berth/x"))
}

extension ContainerStore {
    /// Creates `record` with a launch spec that runs its command.
    func create(_ record: ContainerRecord) throws -> ContainerRecord {
        try create(record, launch: ContainerConfig(id: record.id, rootfs: "/", args: [record.path] + record.args, env: []))
    }
}

func randomID() -> String {
    (0..<64).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
}

@Suite("container store") struct ContainerStoreTests {
    /// A deferred creation is readable at once (a detached start's monitor reads it while the
    /// caller waits for the disk), and `makeDurable` fails plainly once the container is gone.
    @Test func deferredCreationIsReadableAndMadeDurableLater() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let record = makeRecord(name: "later")
        let created = try store.create(record, launch: ContainerConfig(id: record.id, rootfs: "/", args: ["/bin/true"], env: []),
                                       sync: .deferred)
        #expect(try store.find("later") == created)
        #expect(try store.launchConfig(of: created).args == ["/bin/true"])
        try store.makeDurable(created)
        try store.remove(created)
        let error = #expect(throws: ContainerError.self) { try store.makeDurable(created) }
        #expect(error?.description.contains("launch.json") == true)
    }

    /// A creation left to the launch holds its name and nothing else: no container to find, no
    /// leftover for a tidy-up to remove, no name for another container; `recordLaunch` makes it
    /// one, running, with its launch spec.
    @Test func creationAtLaunchIsRecordedByRecordLaunch() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        var record = makeRecord(name: "at-launch")
        record.hostConfig.autoRemove = true
        let launch = ContainerConfig(id: record.id, rootfs: "/", args: ["/bin/true"], env: [])
        let created = try store.create(record, launch: launch, sync: .atLaunch)
        #expect(throws: ContainerError.self) { try store.find("at-launch") }
        #expect(store.all().isEmpty)
        store.removeIncomplete()
        #expect(FileManager.default.fileExists(atPath: store.directory(of: record.id)))
        #expect(throws: ContainerError.self) { try store.create(makeRecord(name: "at-launch")) }

        var running = created
        running.state = ContainerState(status: .running, pid: 4321, startedAt: Timestamp.now())
        try store.recordLaunch(running, launch: launch)
        #expect(try store.find("at-launch").state.pid == 4321)
        #expect(try store.launchConfig(of: running).args == ["/bin/true"])
        try store.remove(running)
        #expect(store.all().isEmpty)
    }

    /// A removed --rootfs container's directory is kept as a spare, which no listing sees, and the
    /// next one takes it: its record and launch spec are its own, written into the spare files.
    /// A directory holding anything else is removed.
    @Test func rootfsRecordDirectoriesAreReused() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        func launched(_ name: String, args: [String]) throws -> ContainerRecord {
            var record = makeRecord(name: name)
            record.rootfs = "/"
            record.hostConfig.autoRemove = true
            let launch = ContainerConfig(id: record.id, rootfs: "/", args: args, env: [])
            var created = try store.create(record, launch: launch, sync: .atLaunch)
            created.state = ContainerState(status: .running, pid: 99, startedAt: Timestamp.now())
            try store.recordLaunch(created, launch: launch)
            return created
        }
        let first = try launched("first", args: ["/bin/first", String(repeating: "x", count: 3000)])
        try store.remove(first)
        let spare = store.containersDirectory + "/.spare-0"
        #expect(try FileManager.default.contentsOfDirectory(atPath: spare).sorted() == ["config.spare", "launch.spare"])
        #expect(store.all().isEmpty)
        #expect(throws: ContainerError.self) { try store.find("first") }

        let second = try launched("second", args: ["/bin/second"])
        #expect(!FileManager.default.fileExists(atPath: spare))
        #expect(try store.find("second").id == second.id)
        // Shorter than the spare's old contents: nothing of them is left at the end.
        #expect(try store.launchConfig(of: second).args == ["/bin/second"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory(of: second.id)).sorted()
            == ["config.json", "launch.json"])

        // Anything else in the directory (a health record, say) and it goes for good.
        #expect(FileManager.default.createFile(atPath: store.directory(of: second.id) + "/health.json", contents: Data("{}".utf8)))
        try store.remove(second)
        #expect(!FileManager.default.fileExists(atPath: spare))
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.containersDirectory).isEmpty)

        // A spare a crash left holding its record is still no container, and its next user
        // is its own.
        let third = try launched("third", args: ["/bin/third"])
        try store.remove(third)
        try FileManager.default.moveItem(atPath: spare + "/config.spare", toPath: spare + "/config.json")
        #expect(store.all().isEmpty)
        let fourth = try launched("fourth", args: ["/bin/fourth"])
        #expect(try store.find("fourth").id == fourth.id)
        #expect(store.all().map(\.name) == ["fourth"])
    }

    /// An image container's directory is kept with its upper/ and work/ when the container left
    /// its root untouched: work/ emptied of what a volatile overlay made in it, which the next
    /// mount would refuse. The next `--rm` or detached container takes it; a durable one never
    /// does, and a root the container wrote to, or whose mode it changed, goes for good.
    @Test func imageRecordDirectoriesAreReusedWhenTheirRootIsUntouched() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let spare = store.containersDirectory + "/.spare-layered-0"
        let files = FileManager.default
        func created(_ name: String, autoRemove: Bool = true) throws -> ContainerRecord {
            var record = makeRecord(name: name)
            record.hostConfig.autoRemove = autoRemove
            let launch = ContainerConfig(id: record.id, rootfs: "/", args: ["/bin/" + name], env: [])
            let created = try store.create(record, launch: launch, sync: .immediate)
            // What a volatile overlay leaves in its workdir.
            let volatile = store.workDirectory(of: created.id) + "/work/incompat/volatile"
            try files.createDirectory(atPath: volatile, withIntermediateDirectories: true)
            #expect(files.createFile(atPath: volatile + "/dirty", contents: nil))
            return created
        }
        let first = try created("first")
        try store.remove(first)
        #expect(try files.contentsOfDirectory(atPath: spare).sorted() == ["config.spare", "launch.spare", "upper", "work"])
        #expect(try files.contentsOfDirectory(atPath: spare + "/work").isEmpty)
        #expect(store.all().isEmpty)

        // A durable creation makes its own directory, which its removal keeps in the next slot.
        let kept = try created("kept", autoRemove: false)
        #expect(files.fileExists(atPath: spare))
        try store.remove(kept)
        #expect(try files.contentsOfDirectory(atPath: store.containersDirectory).sorted()
            == [".spare-layered-0", ".spare-layered-1"])

        let second = try created("second")
        #expect(!files.fileExists(atPath: spare + "/upper"))
        #expect(try store.find("second").id == second.id)
        #expect(try store.launchConfig(of: second).args == ["/bin/second"])
        #expect(try files.contentsOfDirectory(atPath: store.directory(of: second.id)).sorted()
            == ["config.json", "launch.json", "upper", "work"])
        #expect(try files.contentsOfDirectory(atPath: store.upperDirectory(of: second.id)).isEmpty)

        // Written to: removed, not kept.
        #expect(files.createFile(atPath: store.upperDirectory(of: second.id) + "/written", contents: Data("x".utf8)))
        try store.remove(second)
        // Its root's mode changed, or its directory opened to a user namespace: removed too.
        let third = try created("third")
        #expect(chmod(store.upperDirectory(of: third.id), 0o700) == 0)
        try store.remove(third)
        let opened = try created("opened")
        #expect(chmod(store.directory(of: opened.id), 0o711) == 0)
        try store.remove(opened)
        #expect(try files.contentsOfDirectory(atPath: store.containersDirectory).isEmpty)
        let fourth = try created("fourth")
        #expect(try files.contentsOfDirectory(atPath: store.containersDirectory) == [fourth.id])
    }

    @Test func createLoadFindRemove() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let created = try store.create(makeRecord(name: "web"))
        #expect(created.name == "web")
        #expect(try store.load(id: created.id) == created)
        #expect(try store.find("web").id == created.id)
        #expect(try store.find(created.id).id == created.id)
        #expect(try store.find(String(created.id.prefix(5))).id == created.id)
        // The name's link holds the id in 43 characters, which ext4 keeps in the inode; a link
        // that holds it in hex, as older state has, names it too.
        let link = root.path + "/container-names/web"
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: link)
        #expect(target.utf8.count == 43 && target != String(created.id.prefix(43)))
        try FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: created.id)
        #expect(try store.find("web").id == created.id)
        for sub in ["upper", "work"] {
            #expect(FileManager.default.fileExists(atPath: store.directory(of: created.id) + "/" + sub))
        }
        try store.remove(created)
        #expect(!FileManager.default.fileExists(atPath: store.directory(of: created.id)))
        #expect(throws: ContainerError.self) { try store.find("web") }
        // The name is free again.
        #expect(try store.create(makeRecord(name: "web")).name == "web")
    }

    @Test func generatedNamesAreUniqueAndWellFormed() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        var names: Set<String> = []
        for _ in 0..<200 {
            let record = try store.create(makeRecord())
            #expect(record.name.contains("_"))
            #expect(ContainerNames.isValid(record.name))
            names.insert(record.name)
        }
        #expect(names.count == 200)
        #expect(store.all().count == 200)
    }

    @Test func aTakenNameIsRefusedAndNothingIsLeft() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let first = try store.create(makeRecord(name: "db"))
        let second = makeRecord(name: "db")
        let error = #expect(throws: ContainerError.self) { try store.create(second) }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("already in use by \(first.shortID)") == true)
        #expect(!FileManager.default.fileExists(atPath: store.directory(of: second.id)))
        #expect(store.all().map(\.id) == [first.id])
    }

    // An empty name is not among them: it asks for a generated one (generatedNamesAreUniqueAndWellFormed).
    @Test(arguments: ["-x", "a", "has space", "../up", "a/b"]) func invalidNamesAreRefused(name: String) throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let error = #expect(throws: ContainerError.self) { try store.create(makeRecord(name: name)) }
        #expect(error?.code == .invalidArgument)
    }

    /// Issue 11: `run --name <another container's id>` took that id over.
    @Test func aNameThatIsAContainerIdIsRefused() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let first = try store.create(makeRecord())
        let error = #expect(throws: ContainerError.self) { try store.create(makeRecord(name: first.id)) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("read as a container's id") == true, "\(error?.message ?? "")")
        #expect(try store.find(first.id) == first)
    }

    /// A full id names its container even where a name is spelled the same (a store from before
    /// such names were refused): Docker's order, full id, then name, then id prefix.
    @Test func aFullIdComesBeforeAName() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let first = try store.create(makeRecord())
        var second = try store.create(makeRecord(name: "second"))
        unlink(root.path + "/container-names/second")
        try #require(symlink(second.id, root.path + "/container-names/" + first.id) == 0)
        second.name = first.id
        try store.write(second, durable: false)
        #expect(try store.find(first.id).id == first.id)
        #expect(try store.find(String(second.id.prefix(12))).id == second.id)
    }

    @Test func anAmbiguousPrefixIsAnError() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        _ = try store.create(makeRecord(id: "abc" + String(randomID().dropFirst(3))))
        _ = try store.create(makeRecord(id: "abd" + String(randomID().dropFirst(3))))
        let error = #expect(throws: ContainerError.self) { try store.find("ab") }
        #expect(error?.code == .conflict)
        #expect(try store.find("abc").id.hasPrefix("abc"))
        #expect((#expect(throws: ContainerError.self) { try store.find("nope") })?.code == .notFound)
    }

    @Test func whatACrashLeftIsRemoved() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let kept = try store.create(makeRecord(name: "kept"))
        // A removal interrupted after its rename, a creation interrupted before its record
        // (made old), and a name link to a container that never was.
        let doomed = store.containersDirectory + "/.removing-" + randomID()
        try FileManager.default.createDirectory(atPath: doomed + "/upper/deep", withIntermediateDirectories: true)
        let orphan = store.directory(of: randomID())
        try FileManager.default.createDirectory(atPath: orphan + "/upper", withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: orphan)
        let young = store.directory(of: randomID())
        try FileManager.default.createDirectory(atPath: young, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.path + "/container-names/ghost", withDestinationPath: randomID())

        store.removeIncomplete()
        #expect(!FileManager.default.fileExists(atPath: doomed))
        #expect(!FileManager.default.fileExists(atPath: orphan))
        #expect(FileManager.default.fileExists(atPath: young), "a directory younger than a minute may be being created")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: root.path + "/container-names/ghost")) == nil)
        #expect(try store.find("kept").id == kept.id)
        // The ghost's name can be taken.
        #expect(try store.create(makeRecord(name: "ghost")).name == "ghost")
    }

    @Test func aTreeAnRmIsRemovingIsLeftToIt() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let doomed = store.containersDirectory + "/.removing-" + randomID()
        try FileManager.default.createDirectory(atPath: doomed + "/upper", withIntermediateDirectories: true)
        // The lock an rm holds while it removes the tree (flock: per open file, so this process's
        // own second open is refused too).
        let fd = open(doomed, O_RDONLY | O_DIRECTORY)
        #expect(flock(fd, LOCK_EX) == 0)
        store.removeIncomplete()
        #expect(FileManager.default.fileExists(atPath: doomed + "/upper"), "removeIncomplete walked a tree being removed")
        close(fd)
        store.removeIncomplete()
        #expect(!FileManager.default.fileExists(atPath: doomed))
    }

    @Test func theRecordsJSONRoundTrips() throws {
        var record = makeRecord(name: "web")
        record.state = ContainerState(status: .exited, pid: 0, exitCode: 137, oomKilled: true,
                                      startedAt: "2026-11-25T17:00:00Z", finishedAt: "2026-11-25T17:00:01Z")
        record.config.entrypoint = ["/init"]
        record.config.stopSignal = "SIGQUIT"
        record.hostConfig.restartPolicy = RestartPolicy(name: "on-failure", maximumRetryCount: 3)
        record.hostConfig.binds = ["/a:/b:ro"]
        record.restartCount = 2
        #expect(try ContainerRecord(json: JSON.parse(JSON.serialize(record.json))) == record)
        // Docker's inspect keys.
        #expect(record.json["State"]?["OOMKilled"]?.bool == true)
        #expect(record.json["HostConfig"]?["RestartPolicy"]?["MaximumRetryCount"]?.int == 3)
        #expect(record.json["State"]?["Running"]?.bool == false && record.json["State"]?["Restarting"]?.bool == false)

        // Waiting out a back-off: the end it restarts after is kept.
        record.state.status = .restarting
        record.backOffStep = 4
        #expect(try ContainerRecord(json: JSON.parse(JSON.serialize(record.json))) == record)
        #expect(record.json["State"]?["Restarting"]?.bool == true)
        // Docker's ExitCode is 0 until the first end; berth's null says an end it never saw.
        record.state = ContainerState(status: .running, pid: 42, startedAt: "2026-11-25T17:00:00Z")
        #expect(record.json["State"]?["ExitCode"]?.int == 0 && record.json["State"]?["Running"]?.bool == true)
        #expect(try ContainerRecord(json: JSON.parse(JSON.serialize(record.json))) == record)
        record.state = ContainerState(status: .exited)
        #expect(record.json["State"]?["ExitCode"] == .null)
    }

    @Test func aDamagedRecordIsNamed() throws {
        let root = try TemporaryRoot()
        let store = try ContainerStore(root: root.path)
        let record = try store.create(makeRecord(name: "db"))
        try #"{"Id":"x"}"#.write(toFile: store.directory(of: record.id) + "/config.json", atomically: true, encoding: .utf8)
        let error = #expect(throws: ContainerError.self) { try store.load(id: record.id) }
        #expect(error?.message.contains("is damaged") == true)
        #expect(error?.message.contains("Name is missing") == true, "\(error?.message ?? "")")
        #expect(store.all().isEmpty, "a damaged record is left out of listings")
    }

    @Test func liveness() throws {
        var record = makeRecord()
        record.state = ContainerState(status: .running, pid: 42, startedAt: Timestamp.now())
        #expect(record.verified(isRunning: { _ in true }).status == .running)
        let dead = record.verified(isRunning: { _ in false })
        #expect(dead.status == .exited)
        #expect(dead.exitCode == nil)
        #expect(record.statusText(dead, now: 0) == "Exited (unknown)")
        let now = Timestamp.parse(record.state.startedAt!)!
        #expect(record.statusText(record.state, now: now + 3) == "Up 3 seconds")

        // A monitor that dies in a back-off leaves the end it saw.
        record.state = ContainerState(status: .restarting, pid: 0, exitCode: 1, startedAt: Timestamp.now(), finishedAt: Timestamp.now())
        #expect(record.statusText(record.state, now: now).hasPrefix("Restarting (1)"))
        #expect(record.verified(isRunning: { _ in true }).isUp)
        let orphaned = record.verified(isRunning: { _ in false })
        #expect(orphaned.status == .exited && orphaned.exitCode == 1 && !orphaned.isUp)
    }
}

@Suite("timestamps") struct TimestampTests {
    @Test func formatAndParseRoundTrip() {
        #expect(Timestamp.format(seconds: 0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.format(seconds: 1_795_000_000, nanoseconds: 5) == "2026-11-18T11:06:40.000000005Z")
        #expect(Timestamp.parse("2026-11-18T11:06:40.000000005Z") == 1_795_000_000)
        #expect(Timestamp.parse("2026-11-18T12:06:40+01:00") == 1_795_000_000)
        #expect(Timestamp.parse("yesterday") == nil)
        #expect(Timestamp.parse(Timestamp.now()) != nil)
    }

    @Test func humanDurations() {
        #expect(Timestamp.humanDuration(0) == "Less than a second")
        #expect(Timestamp.humanDuration(3) == "3 seconds")
        #expect(Timestamp.humanDuration(61) == "About a minute")
        #expect(Timestamp.humanDuration(600) == "10 minutes")
        #expect(Timestamp.humanDuration(3 * 3600) == "3 hours")
        #expect(Timestamp.humanDuration(3 * 86400) == "3 days")
    }
}
