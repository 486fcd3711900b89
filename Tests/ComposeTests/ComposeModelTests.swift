import BerthErrors
@testable import Compose
import Containers
import Foundation
import JSON
import Testing

/// A directory with a Compose file (and maybe a .env) in it, removed at the end.
final class ProjectDirectory {
    let path: String

    init(_ compose: String, name: String = "compose.yaml", files: [String: String] = [:], directory: String = "My App") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("compose-\(UUID().uuidString.prefix(8))")
        path = base.appendingPathComponent(directory).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try compose.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
        for (file, text) in files { try text.write(toFile: path + "/" + file, atomically: true, encoding: .utf8) }
    }

    deinit { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }

    func load(file: String? = nil, project: String? = nil, environment: [String: String] = [:]) throws -> ComposeProject {
        try ComposeProject.load(file: file, projectName: project, workingDirectory: path, environment: environment)
    }

    /// The message of the error `load` throws.
    func error(environment: [String: String] = [:]) -> String {
        do {
            _ = try load(environment: environment)
            return "no error"
        } catch {
            return (error as? BerthError)?.message ?? "\(error)"
        }
    }
}

@Suite("Compose model") struct ComposeModelTests {
    static let full = """
        name: shop
        x-common: &common
          restart: unless-stopped
          labels: { team: web }
        services:
          web:
            <<: *common
            image: me/shop:${TAG:-v2}
            command: ["serve", "--port", "3000"]
            entrypoint: /bin/entry --flag "two words"
            environment: { RAILS_ENV: production, FROM_SHELL: , PORT: 3000 }
            env_file: [web.env]
            ports: ["8080:3000", "127.0.0.1:9090:9090/udp", 5000, { target: 80, published: "8081", host_ip: 127.0.0.1 }]
            expose: ["3000"]
            volumes:
              - dbdata:/data:ro
              - ./conf:/etc/conf
              - /cache
              - { type: tmpfs, target: /tmp }
              - { type: volume, source: dbdata, target: /more, volume: { nocopy: true } }
            networks: { back: { aliases: [shop] } }
            depends_on: { db: { condition: service_healthy } }
            healthcheck: { test: ["CMD", "wget", "-qO-", "http://127.0.0.1:3000/up"], interval: 1s, timeout: 2s, retries: 2, start_period: 1m30s }
            stop_signal: SIGQUIT
            stop_grace_period: 30s
            deploy: { replicas: 2 }
            working_dir: /app
            user: "1000"
            hostname: web
            cgroup_parent: mine
            init: true
            read_only: yes
            x-berth:
              port: 3000
              proxy: { listen: "127.0.0.1:8080", backups: 2, health_path: /up }
          db:
            image: me/db:1
            command: postgres -c 'max_connections=10'
            environment: [ "A=1", "B", "C=x=y" ]
            volumes: [ "dbdata:/var/lib/db" ]
            networks: [back]
            healthcheck: { test: pg_isready }
        volumes: { dbdata: {}, outside: { external: true } }
        networks: { back: { ipam: { config: [ { subnet: 10.89.9.0/24 } ] } } }
        """

    @Test func everySupportedKey() throws {
        let dir = try ProjectDirectory(Self.full, files: ["web.env": "# comment\nFROM_FILE=1\nRAILS_ENV=dev\nexport QUOTED=\"a b\"\n"])
        let project = try dir.load(environment: ["FROM_SHELL": "shell", "B": "bee"])
        #expect(project.name == "shop")
        // Only that the proxied web's instances go without the keys several instances behind a proxy cannot have.
        #expect(project.warnings == ["compose.yaml: services.web is proxied, so its instances do not get ports (its instances "
                                     + "cannot share host ports: the proxy's listen address is the published port), restart (the "
                                     + "deployer owns its instances' lifecycle: a crashed one is restarted (unless-stopped), a "
                                     + "replaced one stopped)"], "\(project.warnings)")
        let web = try #require(project.model.service("web"))
        #expect(web.image == "me/shop:v2")
        #expect(web.command == ["serve", "--port", "3000"])
        #expect(web.entrypoint == ["/bin/entry", "--flag", "two words"])
        #expect(web.environment == ["FROM_FILE=1", "QUOTED=a b", "RAILS_ENV=production", "FROM_SHELL=shell", "PORT=3000"])
        #expect(web.envFiles == [dir.path + "/web.env"])
        #expect(web.ports == ["8080:3000", "127.0.0.1:9090:9090/udp", "5000", "127.0.0.1:8081:80"])
        #expect(web.expose == ["3000"])
        #expect(web.volumes == [
            .volume(name: "dbdata", target: "/data", readOnly: true, noCopy: false),
            .bind(source: dir.path + "/conf", target: "/etc/conf", readOnly: false),
            .anonymous(target: "/cache"), .tmpfs(target: "/tmp"),
            .volume(name: "dbdata", target: "/more", readOnly: false, noCopy: true),
        ])
        #expect(web.network == ServiceNetwork(name: "back", aliases: ["shop"]))
        #expect(web.dependsOn == [Dependency(service: "db", condition: .healthy)])
        #expect(web.healthcheck == HealthCheck(test: ["CMD", "wget", "-qO-", "http://127.0.0.1:3000/up"], interval: 1_000_000_000,
                                               timeout: 2_000_000_000, startPeriod: 90_000_000_000, retries: 2))
        #expect(web.restart == RestartPolicy(name: "unless-stopped"))
        #expect(web.labels == ["team": "web"])
        #expect(web.stopSignal == "SIGQUIT" && web.stopGracePeriod == 30_000_000_000 && web.stopTimeoutSeconds == 30)
        #expect(web.replicas == 2 && web.instanceCount == 4, "two actives and two backups")
        #expect(web.workingDir == "/app" && web.user == "1000" && web.hostname == "web" && web.cgroupParent == "mine")
        #expect(web.initProcess && web.readOnly)
        #expect(web.berth == BerthSettings(port: 3000, proxy: ProxySettings(listenHost: "127.0.0.1", listenPort: 8080, backups: 2,
                                                                             healthPath: "/up")))
        // The deploy code's view of web: the project's network, the check's timings, its start time
        // (start_period + (retries+1) × (interval+timeout) = 90 + 3 × 3 s), the entrypoint's words before the command.
        var proxied = ProxiedService(
            name: "web", image: "me/shop:v2", command: ["--flag", "two words", "serve", "--port", "3000"], entrypoint: "/bin/entry",
            environment: web.environment, port: 3000, replicas: 2, backups: 2, healthPath: "/up",
            healthcheck: ProxiedHealthcheck(test: ["CMD", "wget", "-qO-", "http://127.0.0.1:3000/up"], intervalMilliseconds: 1000,
                                            timeoutMilliseconds: 2000, retries: 2),
            stopSignal: "SIGQUIT", stopGracePeriod: 30, startTimeout: 99, network: "shop_back",
            proxy: ProxyListener(address: "127.0.0.1", port: 8080), cgroupParent: "mine",
            settings: project.instanceSettings(of: web))
        #expect(project.proxied(web) == proxied)
        proxied.image = "me/shop:v3"
        #expect(project.proxied(web, image: "me/shop:v3") == proxied)
        let db = try #require(project.model.service("db"))
        #expect(project.proxied(db) == nil, "no x-berth.proxy: a plain service")
        #expect(db.command == ["postgres", "-c", "max_connections=10"])
        #expect(db.environment == ["A=1", "B=bee", "C=x=y"])
        #expect(db.healthcheck?.test == ["CMD-SHELL", "pg_isready"])
        #expect(db.network == ServiceNetwork(name: "back", aliases: []))
        #expect(project.model.volumes == [VolumeDeclaration(key: "dbdata", name: "shop_dbdata"),
                                          VolumeDeclaration(key: "outside", name: "outside", external: true)])
        #expect(project.model.networks == [NetworkDeclaration(key: "back", name: "shop_back", subnet: "10.89.9.0/24")])
        #expect(try ComposeModel.startOrder(project.model.services).map(\.name) == ["db", "web"])
    }

    @Test func theRequestAnInstanceIsCreatedFrom() throws {
        let dir = try ProjectDirectory(Self.full, files: ["web.env": ""])
        let project = try dir.load()
        let web = try #require(project.model.service("web"))
        let request = project.request(for: web, number: 2)
        #expect(request.name == "shop-web-2")
        #expect(request.root == .image("me/shop:v2"))
        #expect(request.network == "shop_back" && request.networkAliases == ["web", "shop"])
        #expect(request.entrypoint == "/bin/entry" && request.command == ["--flag", "two words", "serve", "--port", "3000"])
        #expect(request.volumes == ["shop_dbdata:/data:ro", dir.path + "/conf:/etc/conf", "/cache", "shop_dbdata:/more:nocopy"])
        #expect(request.tmpfs == ["/tmp"])
        #expect(request.publish == web.ports && request.stopSignal == "SIGQUIT" && request.cgroupParent == "mine")
        #expect(request.labels[ComposeLabels.project] == "shop" && request.labels[ComposeLabels.service] == "web")
        #expect(request.labels[ComposeLabels.containerNumber] == "2" && request.labels["team"] == "web")
        #expect(request.labels[ComposeLabels.configHash] == project.configHash(of: web))
        // The hash follows the configuration, and only it.
        var changed = web
        changed.environment.append("NEW=1")
        #expect(project.configHash(of: changed) != project.configHash(of: web))
        var scaled = web
        scaled.replicas = 5
        scaled.berth.proxy?.backups = 0
        #expect(project.configHash(of: scaled) == project.configHash(of: web), "scaling replaces no instance")
        #expect(project.configHash(of: web) == (try dir.load()).configHash(of: web))
    }

    @Test func interpolationFromTheEnvironmentAndDotEnv() throws {
        let dir = try ProjectDirectory("""
            services:
              app:
                image: "${IMAGE}:${TAG-latest}"
                command: ["$$HOME", "${EMPTY:-fallback}", "${EMPTY-kept}", "${SET:+alt}", "$BARE", "${MISSING}"]
            """, files: [".env": "IMAGE=from-dotenv\nTAG=from-dotenv\nEMPTY=\n"])
        let project = try dir.load(environment: ["TAG": "from-shell", "SET": "1", "BARE": "b"])
        let app = try #require(project.model.service("app"))
        #expect(app.image == "from-dotenv:from-shell")
        #expect(app.command == ["$HOME", "fallback", "", "alt", "b", ""])
        #expect(project.warnings == ["compose.yaml: the variable MISSING is not set; it stands for an empty string"])
        #expect(project.name == "myapp", "the directory's name, normalised")
    }

    @Test func requiredVariables() throws {
        let dir = try ProjectDirectory("services:\n  app:\n    image: ${IMAGE:?give the image}\n")
        #expect(dir.error() == "compose.yaml:3: services.app.image: variable IMAGE is required: give the image")
        #expect(try dir.load(environment: ["IMAGE": "x"]).model.services[0].image == "x")
    }

    @Test func oneWarningLineNamesEveryIgnoredKey() throws {
        let dir = try ProjectDirectory("""
            version: "3.9"
            services:
              web:
                image: a
                build: { context: ., ssh: [default], cache_from: [x] }
                cap_add: [NET_ADMIN]
                deploy: { replicas: 1, resources: { limits: { cpus: "1" } } }
                x-anything: fine
              db:
                image: b
                healthcheck: { test: true, bogus: 1 }
            secrets: {}
            x-top: fine
            """)
        let project = try dir.load()
        #expect(project.warnings == ["compose.yaml: ignoring unsupported keys: version, secrets, services.web.cap_add, services.web.build.ssh, "
                                     + "services.web.build.cache_from, services.web.deploy.resources, services.db.healthcheck.bogus"])
    }

    @Test func aProxiedServiceNamesWhatItsInstancesDoNotGet() throws {
        let dir = try ProjectDirectory("""
            services:
              web:
                image: a
                ports: ["80"]
                volumes: ["data:/d"]
                restart: always
                x-berth: { port: 80, proxy: { listen: "8080" } }
              plain:
                image: b
                ports: ["81"]
            volumes: { data: {} }
            """)
        let project = try dir.load()
        #expect(project.warnings.count == 1)
        #expect(project.warnings.first?.hasPrefix("compose.yaml: services.web is proxied, so its instances do not get ports (") == true)
        #expect(project.warnings.first?.contains("), restart (the deployer owns") == true, "\(project.warnings)")
        #expect(project.warnings.first?.contains("volumes") == false, "its volumes apply")
    }

    @Test func aProxiedInstanceGetsWhatAPlainInstanceGets() throws {
        let dir = try ProjectDirectory(Self.full, files: ["web.env": ""])
        let project = try dir.load()
        let web = try #require(project.model.service("web"))
        let settings = project.instanceSettings(of: web)
        #expect(settings.volumes == ["shop_dbdata:/data:ro", dir.path + "/conf:/etc/conf", "/cache", "shop_dbdata:/more:nocopy"])
        #expect(settings.tmpfs == ["/tmp"] && settings.labels == ["team": "web"])
        #expect(settings.workingDir == "/app" && settings.user == "1000" && settings.hostname == "web")
        #expect(settings.useInit && settings.readOnly && settings.networkAliases == ["web", "shop"])
        // The same settings on both kinds of request: one mapping.
        let proxied = try #require(project.proxied(web))
        #expect(proxied.settings == settings)
        var fromSettings = ContainerRequest(root: .image("x"))
        settings.apply(to: &fromSettings)
        let plain = project.request(for: web, number: 1)
        #expect(fromSettings.volumes == plain.volumes && fromSettings.tmpfs == plain.tmpfs && fromSettings.workdir == plain.workdir)
        #expect(fromSettings.user == plain.user && fromSettings.hostname == plain.hostname && fromSettings.useInit == plain.useInit)
        #expect(fromSettings.readOnly == plain.readOnly && fromSettings.networkAliases == plain.networkAliases)
        // A changed volume list is another version of the instances: up refuses it, deploy moves to it.
        var moved = web
        moved.volumes.removeLast()
        let other = try #require(project.proxied(moved))
        #expect(!other.sameInstances(as: proxied))
        var relabelled = web
        relabelled.labels["team"] = "ops"
        #expect(!(try #require(project.proxied(relabelled))).sameInstances(as: proxied))
        // A record written before instances had settings runs none: the same as a service with none.
        var bare = proxied
        bare.settings = InstanceSettings()
        var old = proxied
        old.settings = nil
        #expect(old.sameInstances(as: bare) && !old.sameInstances(as: proxied))
    }

    @Test("every error names the file, the line and the key", arguments: [
        ("services:\n  web:\n    image: a\n    ports: 80\n", "compose.yaml:4: services.web.ports must be a list"),
        ("services:\n  web:\n    command: a\n", "compose.yaml:3: services.web has no image: name the image to run"),
        ("services:\n  web:\n    image: [a]\n", "compose.yaml:3: services.web.image must be a string"),
        ("services:\n  web:\n    image: a\n    deploy: { replicas: two }\n", "compose.yaml:4: services.web.deploy.replicas must be a whole number"),
        ("services:\n  web:\n    image: a\n    restart: sometimes\n",
         "compose.yaml:4: services.web.restart must be no, always, on-failure[:N] or unless-stopped"),
        ("services:\n  web:\n    image: a\n    stop_grace_period: soon\n",
         "compose.yaml:4: services.web.stop_grace_period must be a duration such as 30s, 1m30s or 500ms"),
        ("services:\n  web:\n    image: a\n    healthcheck: { test: [RUN, x] }\n",
         "compose.yaml:4: services.web.healthcheck.test must start with CMD, CMD-SHELL or NONE"),
        ("services:\n  web:\n    image: a\n    volumes: [\"data:/d\"]\n",
         "compose.yaml:4: services.web.volumes[0] names volume \"data\", which the top-level volumes do not declare: add it there"),
        ("services:\n  web:\n    image: a\n    networks: [front]\n",
         "compose.yaml:4: services.web.networks names network \"front\", which the top-level networks do not declare: add it there"),
        ("services:\n  web:\n    image: a\n    depends_on: [db]\n",
         "compose.yaml:4: services.web.depends_on names \"db\", which is not a service of the file"),
        ("services:\n  web:\n    image: a\n    depends_on: { db: { condition: service_completed_successfully } }\n  db:\n    image: b\n",
         "compose.yaml:4: services.web.depends_on.db.condition must be service_started or service_healthy (got service_completed_successfully)"),
        ("services:\n  a:\n    image: a\n    depends_on: [b]\n  b:\n    image: b\n    depends_on: [a]\n",
         "compose.yaml: depends_on makes a cycle among services a, b: break it"),
        ("services:\n  web:\n    image: a\n    ports: [\"80:http\"]\n",
         "compose.yaml:4: services.web.ports[0] \"80:http\" is not a port: use [ip:][host:]container[/tcp|udp]"),
        ("services:\n  web:\n    image: a\n    environment: 3\n",
         "compose.yaml:4: services.web.environment must be a mapping or a list of NAME=value"),
        ("services:\n  web:\n    image: a\n    x-berth: { proxy: { listen: 8080 } }\n",
         "compose.yaml:4: services.web.x-berth.proxy needs services.web.x-berth.port: the app's port inside the container"),
        ("services:\n  web:\n    image: a\n    x-berth: { port: 70000 }\n",
         "compose.yaml:4: services.web.x-berth.port must be between 1 and 65535 (got 70000)"),
        ("services:\n  web:\n    image: a\n    x-berth: { port: 80, proxy: { listen: \"here:\" } }\n",
         "compose.yaml:4: services.web.x-berth.proxy.listen \"here:\" is not HOST:PORT or PORT"),
        ("services:\n  web:\n    image: a\n    stop_signal: SIGNOPE\n", "compose.yaml:4: services.web.stop_signal names no signal (SIGNOPE)"),
        ("services:\n  web:\n    image: a\n    init: maybe\n", "compose.yaml:4: services.web.init must be true or false"),
        ("networks: {}\n", "compose.yaml:1: the file has no services: describe at least one under services:"),
        ("services: [a]\n", "compose.yaml:1: services must be a mapping"),
        ("services:\n  web:\n    image: a\n    networks: [a, b]\nnetworks: { a: {}, b: {} }\n",
         "compose.yaml:4: services.web.networks names 2 networks: berth joins a container to exactly one network; keep one"),
        ("services:\n  web:\n    image: a\n    env_file: missing.env\n",
         "compose.yaml:4: services.web.env_file names missing.env, which cannot be read"),
        ("services:\n  web:\n    image: a\n  web:\n    image: b\n", "compose.yaml:4: the key \"web\" appears twice in one mapping"),
        ("name: Bad Name\nservices:\n  web:\n    image: a\n",
         "compose.yaml:1: name must be a project name: lowercase letters, digits, '_' and '-', starting with a letter or digit"),
    ])
    func errors(text: String, message: String) throws {
        let got = try ProjectDirectory(text).error()
        #expect(got.hasPrefix(message), "\(got)")
    }

    @Test func proxyListenDefaults() throws {
        let dir = try ProjectDirectory("services:\n  web:\n    image: a\n    x-berth: { port: 3000, proxy: { listen: 8080 } }\n")
        #expect(try dir.load().model.services[0].berth.proxy == ProxySettings(listenHost: "0.0.0.0", listenPort: 8080))
    }

    @Test func fileNamesAndProjectNames() throws {
        let dir = try ProjectDirectory("services:\n  web:\n    image: a\n", name: "docker-compose.yml", directory: "_Odd.Dir-1")
        let project = try dir.load()
        #expect(project.file == dir.path + "/docker-compose.yml" && project.name == "odddir-1")
        #expect(project.model.networks == [NetworkDeclaration(key: "default", name: "odddir-1_default")])
        #expect(try dir.load(project: "given").name == "given")
        #expect(try dir.load(environment: ["COMPOSE_PROJECT_NAME": "fromenv"]).name == "fromenv")
        let dotEnv = try ProjectDirectory("services:\n  web:\n    image: a\n", files: [".env": "COMPOSE_PROJECT_NAME=dotenv\n"])
        #expect(try dotEnv.load().name == "dotenv")
        #expect(throws: BerthError.self) { try dir.load(project: "Not valid") }
        #expect(throws: BerthError.self) { try dir.load(file: "other.yaml") }
        #expect(ComposeProject.normalizedName("--My_App.2") == "my_app2")
    }

    @Test func configJSONIsTheResolvedModel() throws {
        let dir = try ProjectDirectory(Self.full, files: ["web.env": ""])
        let text = String(decoding: JSON.serialize(try dir.load().json), as: UTF8.self)
        #expect(text.contains("\"name\":\"shop\"") && text.contains("\"image\":\"me/shop:v2\""), "\(text)")
        #expect(text.contains("\"dbdata\":{\"name\":\"shop_dbdata\"}"), "\(text)")
        #expect(text.contains("\"proxy\":{\"listen\":\"127.0.0.1:8080\",\"backups\":2,\"health_path\":\"/up\"}"), "\(text)")
    }

    @Test func shellWords() {
        #expect(String.shellWords("a 'b c' \"d \\\" e\" f\\ g") == ["a", "b c", "d \" e", "f g"])
        #expect(String.shellWords("'open") == nil)
        #expect(String.shellWords("") == [])
    }
}
