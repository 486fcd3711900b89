import Foundation
import Testing

/// Issue 16's example end to end, the one test that needs Debian's mirror: a Debian base image
/// (rootfs-scripts/debian.sh) with a package installed by `RUN apt-get update && apt-get install`,
/// then an app image FROM it that copies a config file, runs a setup command, EXPOSEs a port and
/// serves HTTP from its ENTRYPOINT, curled through `-p`. And issue 13's outbound `apt-get` from a
/// Debian container on the bridge, against a mirror on a stand-in "other host" (it needs only the
/// Debian root this suite makes).
///
/// The builds need the real network (`--network host`: the mirror is reachable from the host's
/// network namespace only, and no rule may be added there for a bridge), and `-p` needs a private
/// one (it adds nftables rules): so the suite runs outside `unshare --net` (`.ci/test` runs it
/// alone with BERTH_APT_TEST=1) and does its `-p` part in a stand-in host. Its own suite, outside
/// `Containers`: the first debootstrap takes longer than that suite's time limit.
@Suite("BuildDebian", .serialized, .timeLimit(.minutes(20)),
       .enabled(if: Host.canRunContainers && Host.hasNetworkTools, Host.notRoot),
       .enabled(if: ProcessInfo.processInfo.environment["BERTH_APT_TEST"] == "1",
                "needs Debian's mirror through the host's network: .ci/test runs it with BERTH_APT_TEST=1 outside unshare --net"))
struct BuildDebian {
    let fixture = Fixture.shared

    /// The debootstrapped root, kept between runs (debian.sh does nothing on a finished one).
    static let debianRoot = "/var/cache/berth-tests/debian-bookworm"

    @Test("a Debian base with a package from apt-get, an app image FROM it, served through -p")
    func talkExample() throws {
        try makeDebianRoot()
        // The stand-in host's state root holds the images too: built here, run there.
        let host = try StandInHost(fixture)
        defer { host.remove() }
        let base = host.root + "-base", app = host.root + "-app"
        defer {
            for directory in [base, app] { try? FileManager.default.removeItem(atPath: directory) }
        }
        func berth(_ args: [String], timeout: Double = 120) throws -> Command.Result {
            try Command.run(fixture.berth, ["--root", host.root] + args, timeout: timeout)
        }
        func build(_ args: [String]) throws -> Command.Result {
            try berth(["build", "--cgroup-parent", fixture.cgroupParent, "--progress=plain"] + args, timeout: 600)
        }
        let imported = try berth(["import", Self.debianRoot, "debian:bookworm"], timeout: 300)
        try #require(imported.status == 0, "import: \(imported.stderr)")

        try write(base, ["Dockerfile": """
            FROM debian:bookworm
            RUN apt-get update && apt-get install -y --no-install-recommends busybox && rm -rf /var/lib/apt/lists/*
            """])
        let built = try build(["--network", "host", "-t", "talk/base:1", base])
        try #require(built.status == 0, "\(built.stderr)")
        #expect(built.stderr.contains("Setting up busybox"), "apt-get's output is streamed: \(built.stderr)")
        // The base is reused: its rebuild runs nothing, the mirror is not asked again.
        let again = try build(["--network", "host", "-t", "talk/base:1", base])
        #expect(again.status == 0 && cachedSteps(again.stderr) == [2] && !again.stderr.contains("Running in"), "\(again.stderr)")

        try write(app, [
            "app.conf": "GREETING='hello from the talk'\n",
            "Dockerfile": """
                FROM talk/base:1
                COPY app.conf /etc/app/app.conf
                RUN mkdir -p /srv/www && . /etc/app/app.conf && echo "$GREETING" > /srv/www/index.html
                EXPOSE 8080
                ENTRYPOINT ["busybox", "httpd", "-f", "-p", "8080", "-h", "/srv/www"]
                """,
        ])
        let appBuilt = try build(["--network", "none", "-t", "talk/app:1", app])
        try #require(appBuilt.status == 0, "\(appBuilt.stderr)")
        let inspected = try berth(["inspect", "--format", "{{json .Config.ExposedPorts}} {{json .Config.Entrypoint}}", "talk/app:1"])
        #expect(inspected.output == #"{"8080/tcp":{}} ["busybox","httpd","-f","-p","8080","-h","/srv/www"]"#, "\(inspected.stdout)")

        let started = try host.berth(["run", "-d", "--name", "web", "-p", "8081:8080", "talk/app:1"])
        try #require(started.status == 0, "\(started.stderr)")
        var answer = ""
        let served = try eventually(within: 20, poll: 0.1) {
            answer = try host.shell("curl -s --max-time 2 http://127.0.0.1:8081/").stdout
            return answer == "hello from the talk\n"
        }
        #expect(served, "curl through -p answered \(answer.debugDescription)")
        let remote = try host.onOtherHost("curl -s --max-time 2 http://\(StandInHost.address):8081/")
        #expect(remote.stdout == "hello from the talk\n", "from another host: \(remote.stdout)\(remote.stderr)")

        let removed = try host.berth(["rm", "-f", "web"])
        #expect(removed.status == 0, "\(removed.stderr)")
        let left = try host.leftovers()
        #expect(left.veths.isEmpty && left.leases.isEmpty, "\(left)")
        #expect(try host.berth(["ps", "-a", "-q"]).output.isEmpty)
    }

    /// Issue 13's outbound check without touching the host's network: `apt-get update` and
    /// `apt-get install` in a Debian container on the default bridge of a stand-in host, from a
    /// small repository served on "another host", which sees the stand-in host's address (the
    /// bridge's masquerade), as a mirror on the Internet would.
    @Test("apt-get update and install on the default bridge, from a mirror on another host, through berth's masquerade")
    func aptThroughTheBridge() throws {
        try makeDebianRoot()
        let host = try StandInHost(fixture)
        defer { host.remove() }
        let repository = host.root + "-repository"
        defer { try? FileManager.default.removeItem(atPath: repository) }
        try makeRepository(repository)

        // python3's http.server logs each request with the client's address on stderr.
        let log = repository + ".log"
        let server = try Spawned("/usr/bin/nsenter", ["--net=/run/netns/\(host.other)", "/usr/bin/python3", "-m", "http.server",
                                                      "--bind", StandInHost.otherAddress, "--directory", repository, "8000"],
                                 stdout: "/dev/null", stderr: log)
        defer { kill(server.pid, SIGKILL); _ = server.wait(seconds: 5) }
        let listening = try eventually(within: 20, poll: 0.1) {
            try host.onOtherHost("curl -s -o /dev/null --max-time 1 http://\(StandInHost.otherAddress):8000/Release").status == 0
        }
        try #require(listening, "the other host's mirror never answered")

        let imported = try host.berth(["import", Self.debianRoot, "debian:bookworm"], timeout: 300)
        try #require(imported.status == 0, "import: \(imported.stderr)")
        let apt = """
            rm -f /etc/apt/sources.list /etc/apt/sources.list.d/* && \
            echo 'deb [trusted=yes] http://\(StandInHost.otherAddress):8000/ ./' > /etc/apt/sources.list && \
            apt-get update && apt-get install -y berth-hello && berth-hello
            """
        let ran = try host.berth(["run", "--rm", "debian:bookworm", "sh", "-c", apt], timeout: 300)
        #expect(ran.status == 0, "\(ran.stdout)\(ran.stderr)")
        #expect(ran.stdout.contains("hello through the bridge"), "\(ran.stdout)")
        // Every request but the readiness probe's (made on the other host itself) reached the mirror
        // from the stand-in host's own address, not the container's.
        let requests = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
            .split(separator: "\n").filter { $0.contains("\"GET /") && !$0.hasPrefix(StandInHost.otherAddress + " ") }
        #expect(requests.contains { $0.contains("berth-hello_1.0_all.deb HTTP") }, "\(requests)")
        #expect(!requests.isEmpty && requests.allSatisfy { $0.hasPrefix(StandInHost.address + " ") }, "\(requests)")
        let left = try host.leftovers()
        #expect(left.veths.isEmpty && left.leases.isEmpty, "\(left)")
    }

    /// The Debian root of `debianRoot`, debootstrapped from the host's mirror the first time.
    private func makeDebianRoot() throws {
        let script = fixture.repository.appendingPathComponent("rootfs-scripts/debian.sh").path
        let debootstrap = try Command.run("/bin/bash", [script, Self.debianRoot, "bookworm"], timeout: 900)
        try #require(debootstrap.status == 0, "debian.sh: \(debootstrap.stdout)\(debootstrap.stderr)")
    }

    /// A flat apt repository of one package, `berth-hello`, which prints a line: its .deb made by
    /// dpkg-deb, its Packages and Release files written here (apt checks the Packages file against
    /// the Release's SHA256; `[trusted=yes]` stands for a signature).
    private func makeRepository(_ repository: String) throws {
        let package = repository + "-package"
        defer { try? FileManager.default.removeItem(atPath: package) }
        try write(package + "/DEBIAN", ["control": """
            Package: berth-hello
            Version: 1.0
            Architecture: all
            Maintainer: berth tests <tests@berth.invalid>
            Description: a program apt installs through berth's bridge

            """])
        try write(package + "/usr/bin", ["berth-hello": "#!/bin/sh\necho hello through the bridge\n"])
        chmod(package + "/usr/bin/berth-hello", 0o755)
        try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
        let deb = repository + "/berth-hello_1.0_all.deb"
        let built = try Command.run("/usr/bin/dpkg-deb", ["--root-owner-group", "--build", package, deb])
        try #require(built.status == 0, "dpkg-deb: \(built.stderr)")
        func sha256(_ path: String) throws -> String {
            String(try Command.run("/usr/bin/sha256sum", [path]).stdout.prefix(64))
        }
        func size(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        }
        let packages = """
            Package: berth-hello
            Version: 1.0
            Architecture: all
            Maintainer: berth tests <tests@berth.invalid>
            Filename: ./berth-hello_1.0_all.deb
            Size: \(try size(deb))
            SHA256: \(try sha256(deb))
            Description: a program apt installs through berth's bridge

            """
        try write(repository, ["Packages": packages])
        let date = try Command.run("/bin/date", ["-u", "-R"]).output
        try write(repository, ["Release": """
            Origin: berth-tests
            Label: berth-tests
            Suite: stable
            Codename: stable
            Date: \(date)
            Architectures: all amd64
            SHA256:
             \(try sha256(repository + "/Packages")) \(try size(repository + "/Packages")) Packages

            """])
    }

    private func write(_ directory: String, _ files: [String: String]) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, content) in files { try content.write(toFile: directory + "/" + name, atomically: false, encoding: .utf8) }
    }
}
