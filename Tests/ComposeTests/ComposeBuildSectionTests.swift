import BerthErrors
@testable import Compose
import Foundation
import JSON
import Testing

/// `build:` sections (issue 16's compose lines, issue 15's `build: .`): both forms, the image
/// name a built service gets, and errors that name the file, the line and the key.
@Suite("Compose build sections") struct ComposeBuildSectionTests {
    @Test func theShortFormIsTheContextAndTheImageIsProjectDashService() throws {
        let dir = try ProjectDirectory("services:\n  Web:\n    build: ./app\n  db:\n    build: .\n    image: me/db:2\n")
        let project = try dir.load(project: "shop")
        let web = try #require(project.model.service("Web"))
        #expect(web.image == "shop-web", "Docker Compose v2's name, lowercased to a valid reference")
        #expect(web.build == ServiceBuild(context: dir.path + "/app"))
        let db = try #require(project.model.service("db"))
        #expect(db.image == "me/db:2" && db.build == ServiceBuild(context: dir.path), "with image: the build is tagged with it")
        #expect(project.warnings.isEmpty, "\(project.warnings)")
    }

    @Test func theLongFormReadsEveryKeyBerthBuildsWith() throws {
        let dir = try ProjectDirectory("""
            services:
              web:
                build:
                  context: ctx
                  dockerfile: deploy/Dockerfile.prod
                  args: { RUBY: "3.3", FROM_ENV: , UNSET: }
                  target: runtime
                  labels: [team=web, empty]
                  tags: ["me/web:extra"]
                  no_cache: true
                  network: none
                  platforms: [linux/arm64]
              api:
                build:
                  dockerfile_inline: |
                    FROM busybox
                    RUN true
                  args: [A=1, FROM_ENV, B=x=y]
                  network: default
            """)
        let project = try dir.load(environment: ["FROM_ENV": "env"])
        var expected = ServiceBuild(context: dir.path + "/ctx")
        expected.dockerfile = dir.path + "/ctx/deploy/Dockerfile.prod"
        expected.args = ["RUBY": "3.3", "FROM_ENV": "env"]
        expected.target = "runtime"
        expected.labels = ["team": "web", "empty": ""]
        expected.tags = ["me/web:extra"]
        expected.noCache = true
        expected.network = "none"
        #expect(project.model.service("web")?.build == expected)
        var api = ServiceBuild(context: dir.path)
        api.dockerfileInline = "FROM busybox\nRUN true\n"
        api.args = ["A": "1", "FROM_ENV": "env", "B": "x=y"]
        api.network = "bridge"
        #expect(project.model.service("api")?.build == api)
        #expect(project.warnings == ["compose.yaml: ignoring unsupported keys: services.web.build.platforms"])
        let text = String(decoding: JSON.serialize(try #require(project.model.service("web")).json), as: UTF8.self)
        #expect(text.contains("\"build\":{\"context\":\"\(dir.path)/ctx\",\"dockerfile\":\"\(dir.path)/ctx/deploy/Dockerfile.prod\""),
                "compose config shows the section: \(text)")
    }

    @Test func theConfigHashLeavesTheSectionToTheImageID() throws {
        let one = try ProjectDirectory("services:\n  web:\n    build: { context: ., args: { A: \"1\" } }\n")
        let two = try ProjectDirectory("services:\n  web:\n    build: { context: ., args: { A: \"2\" } }\n")
        let first = try one.load(project: "p"), second = try two.load(project: "p")
        let web1 = try #require(first.model.service("web")), web2 = try #require(second.model.service("web"))
        #expect(first.configHash(of: web1) == second.configHash(of: web2), "the section alone replaces no instance")
        #expect(first.configHash(of: web1, imageID: "sha256:aa") != first.configHash(of: web1, imageID: "sha256:bb"),
                "another image does")
        #expect(first.request(for: web1, number: 1, imageID: "sha256:aa").labels[ComposeLabels.configHash]
                == first.configHash(of: web1, imageID: "sha256:aa"))
    }

    @Test("errors name the file, the line and the key", arguments: [
        ("services:\n  web:\n    build: [a]\n", "compose.yaml:3: services.web.build must be a context directory or a mapping"),
        ("services:\n  web:\n    build:\n", "compose.yaml:3: services.web.build must be a context directory or a mapping"),
        ("services:\n  web:\n    build: { context: [a] }\n", "compose.yaml:3: services.web.build.context must be a string"),
        ("services:\n  web:\n    build:\n      context: \"\"\n", "compose.yaml:4: services.web.build.context is empty"),
        ("services:\n  web:\n    build: https://github.com/me/app.git\n",
         "compose.yaml:3: services.web.build is https://github.com/me/app.git: berth builds from a local directory only"),
        ("services:\n  web:\n    build:\n      dockerfile: D\n      dockerfile_inline: FROM x\n",
         "compose.yaml:5: services.web.build.dockerfile_inline and services.web.build.dockerfile both name the Dockerfile: keep one"),
        ("services:\n  web:\n    build:\n      args: 3\n", "compose.yaml:4: services.web.build.args must be a mapping or a list of NAME=value"),
        ("services:\n  web:\n    build:\n      args: [\"=x\"]\n", "compose.yaml:4: services.web.build.args[0] names no variable"),
        ("services:\n  web:\n    build:\n      no_cache: sometimes\n", "compose.yaml:4: services.web.build.no_cache must be true or false"),
        ("services:\n  web:\n    build:\n      network: mynet\n",
         "compose.yaml:4: services.web.build.network is mynet: RUN steps take bridge, none or host"),
        ("services:\n  web:\n    build:\n      tags: me/x\n", "compose.yaml:4: services.web.build.tags must be a list"),
        ("services:\n  web:\n    command: a\n",
         "compose.yaml:3: services.web has no image: name the image to run, or give it a build: section"),
    ])
    func errors(text: String, message: String) throws {
        let got = try ProjectDirectory(text).error()
        #expect(got.hasPrefix(message), "\(got)")
    }
}
