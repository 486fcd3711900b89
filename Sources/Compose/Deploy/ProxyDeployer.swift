import Containers
#if canImport(Glibc)
import Glibc
#endif

/// Proxied services of one project, as an engine API: brought up behind HAProxy, moved to a new
/// version without losing a request, taken down. The compose commands map a service onto a
/// `ProxiedService` and call these; nothing here reads a compose file.
///
/// Every change of a server during a deploy goes through HAProxy's runtime API, in the order
/// that loses nothing (issue 15, `moveGroup`); the service's record is written after every
/// step that changes a slot, and a journal names the deploy until it is over.
public struct ProxyDeployer: Sendable {
    public let engine: ContainerEngine
    public let directory: ProjectDirectory

    public init(engine: ContainerEngine, project: String) throws {
        self.engine = engine
        directory = try ProjectDirectory(stateRoot: engine.stateRoot, project: project)
    }

    var instances: ServiceInstances { ServiceInstances(engine: engine, project: directory.project) }
    var admin: ProxyAdminSocket { directory.proxy.admin }

    /// What a deploy did.
    public struct Outcome: Sendable {
        public var service: String
        public var fromImage: String
        public var toImage: String
        public var milliseconds: Int64
    }

    // MARK: up

    /// Starts the service's instances that are not running (adopting those that are), each
    /// checked healthy by a direct probe, then has HAProxy serve them, and waits until HAProxy's
    /// own checks see every slot UP. A service already up at another version is refused: that is
    /// a deploy.
    public func up(_ service: ProxiedService) throws {
        try check(service)
        // Before any instance starts: nothing to undo when HAProxy is not there.
        try directory.proxy.checkInstalled()
        try directory.whileLocked("service-\(service.name)") {
            var record = try directory.record(service.name) ?? ServiceRecord(service: service)
            if record.service != service, record.slots.contains(where: { $0.container != nil }) {
                guard record.service.sameInstances(as: service) else {
                    throw ProxyError(.conflict, "service \(service.name) runs \(record.service.image) already: deploy the new "
                                     + "version with compose deploy \(service.name)")
                }
                record.service = service
            }
            try instances.ensureNetwork(service)
            var started: [String] = []
            do {
                for index in record.slots.indices {
                    if let id = record.slots[index].container, instances.isRunning(id) { continue }
                    // A stopped instance of this version (`stop`, Ctrl-C of an attached up)
                    // starts again, as Docker Compose starts a stopped container; any other goes.
                    let instance = try instances.resumeOrStart(
                        record.slots[index].container, reusable: record.slots[index].version?.sameInstances(as: service) == true,
                        service, slot: record.slots[index].server)
                    started.append(instance.id)
                    record.slots[index].container = instance.id
                    record.slots[index].address = instance.address
                    record.slots[index].version = service
                }
                try waitForProbes(record.slots.filter { started.contains($0.container ?? "") }, of: service)
                try directory.write(record)
                try holdImages(of: record)
                try directory.whileLocked("proxy") {
                    let running = directory.proxy.runningPid != nil
                    let known = running && ((try? admin.stats().contains { $0.proxy == service.name }) ?? false)
                    try directory.proxy.apply(directory.configuration(), reload: !known)
                    if known {
                        // A running HAProxy that knew the service: slots refilled here get their new address.
                        for slot in record.slots where started.contains(slot.container ?? "") {
                            try bringBack(slot, of: service)
                        }
                    }
                }
                try waitForStatus(record.slots.map(\.server), of: service, within: service.startTimeout) { $0 == "UP" }
            } catch {
                for id in started { instances.stop(id, signal: nil, grace: 0) }
                if started.count == record.slots.count { directory.removeRecord(service.name) }
                throw error
            }
        }
    }

    // MARK: deploy

    /// Moves the service to `target` (a new image, command or environment): the backups, then
    /// the actives, each group the careful way (`moveGroup`). A new instance that never passes
    /// its probe or HAProxy's checks within `startTimeout` aborts the deploy: the slots already
    /// moved go back to the running version the same way, and the error says why.
    public func deploy(_ target: ProxiedService) throws -> Outcome {
        try check(target)
        // Before any new instance starts: a running HAProxy is reloaded from its executable.
        try directory.proxy.checkInstalled()
        let began = Clock.now
        return try directory.whileLocked("service-\(target.name)") {
            guard var record = try directory.record(target.name) else {
                throw ProxyError(.notFound, "service \(target.name) is not up: start it with compose up first")
            }
            try directory.proxy.ensureRunning()
            if let journal = try directory.read(DeployJournal.self, at: directory.journalPath(target.name)) {
                try recover(&record, journal: journal)
            }
            guard record.service.replicas == target.replicas, record.service.backups == target.backups,
                  record.service.proxy == target.proxy, record.service.port == target.port,
                  record.service.healthPath == target.healthPath
            else {
                throw ProxyError(.unsupported, "a deploy of \(target.name) changes only its instances (image, command, environment, "
                                 + "health check, volumes, labels, user and the like); replicas, backups, port and proxy "
                                 + "settings change with compose up")
            }
            let from = record.service
            var journal = DeployJournal(from: from, to: target, phase: "deploying", moved: [])
            try directory.write(journal, at: directory.journalPath(target.name))
            let groups = [record.slots.indices.filter { record.slots[$0].backup },
                          record.slots.indices.filter { !record.slots[$0].backup }]
            warmStandbys(groups.flatMap { group in group.map { record.slots[$0] } }, for: target)
            for group in groups where !group.isEmpty {
                do {
                    try moveGroup(group, of: &record, to: target, journal: &journal)
                } catch {
                    journal.phase = "rolling back"
                    try? directory.write(journal, at: directory.journalPath(target.name))
                    let moved = record.slots.indices.filter { record.slots[$0].version != from || record.slots[$0].container == nil }
                    do {
                        try moveGroup(moved, of: &record, to: from, journal: &journal)
                    } catch let rollback {
                        throw ProxyError(.systemError, "deploy of \(target.name) failed (\(describe(error))), and so did its "
                                         + "rollback (\(describe(rollback))): the journal \(directory.journalPath(target.name)) "
                                         + "is kept; run the deploy again to recover")
                    }
                    // The new version's instances just stopped are no rollback target.
                    try? settleStandbys(of: &record, keeping: record.previous)
                    unlink(directory.journalPath(target.name))
                    throw ProxyError(.invalidState, "deploy of \(target.name) to \(target.image) failed and was rolled back to "
                                     + "\(from.image): \(describe(error))")
                }
            }
            record.service = target
            record.previous = from
            try directory.write(record)
            try settleStandbys(of: &record, keeping: from)
            try holdImages(of: record)
            unlink(directory.journalPath(target.name))
            return Outcome(service: target.name, fromImage: from.shownImage(beside: target), toImage: target.shownImage(beside: from),
                           milliseconds: Clock.now - began)
        }
    }

    /// Moves the service back to the version its last deploy replaced, by the same careful
    /// cycle. Hot where the replaced instances are still there (each slot's standby, stopped
    /// since that deploy): they are started again, probed and pointed at, and no container is
    /// made; a slot whose standby is gone gets a new instance (a cold start). A rollback is a
    /// deploy: what it replaces becomes the standby in turn, so a second rollback goes forward.
    public func rollback(_ name: String) throws -> Outcome {
        guard let record = try directory.record(name) else {
            throw ProxyError(.notFound, "service \(name) is not up in project \(directory.project)")
        }
        guard let previous = record.previous else {
            throw ProxyError(.invalidState, "service \(name) has no earlier version to roll back to: it was never deployed")
        }
        return try deploy(previous)
    }

    /// Finishes what a killed deploy left: every slot that is not running its journal's old
    /// version on a live container, UP in HAProxy, is moved back to it the careful way.
    func recover(_ record: inout ServiceRecord, journal: DeployJournal) throws {
        var journal = journal
        journal.phase = "recovering"
        let stats = (try? admin.stats()) ?? []
        let serving = record.slots.indices.filter { index in
            let slot = record.slots[index]
            guard let id = slot.container, instances.isRunning(id) else { return false }
            return stats.first { $0.proxy == record.service.name && $0.server == slot.server }?.status == "UP"
        }
        let broken = record.slots.indices.filter { !serving.contains($0) || record.slots[$0].version != journal.from }
        // The slots out of the rotation first, together: bringing them back takes nothing from
        // the traffic. Then those serving the version the deploy moved to, the backups, then
        // the actives, so that one group always serves while the other moves (a berth killed
        // in the actives' cycle leaves only the backups serving).
        let idle = broken.filter { !serving.contains($0) }
        let groups = [idle, broken.filter { serving.contains($0) && record.slots[$0].backup },
                      broken.filter { serving.contains($0) && !record.slots[$0].backup }]
        // A berth killed between starting an instance and recording it left a container no slot names.
        let known = Set(record.containers)
        for orphan in engine.list() where orphan.config.labels["berth.compose.project"] == directory.project
            && orphan.config.labels["berth.compose.service"] == record.service.name && !known.contains(orphan.id) {
            instances.stop(orphan.id, signal: nil, grace: 0)
        }
        for group in groups where !group.isEmpty {
            try moveGroup(group, of: &record, to: journal.from, journal: &journal, recovering: true)
        }
        record.service = journal.from
        try directory.write(record)
        try settleStandbys(of: &record, keeping: record.previous)
        try holdImages(of: record)
        unlink(directory.journalPath(record.service.name))
    }

    /// The careful cycle for a group of slots, together: drain, wait for their sessions to end
    /// (bounded by the grace period), maint, stop the old instances, start the new ones, probe
    /// them directly, point the slots at them, bring them back through drain with their health
    /// marked down so only fresh passing checks make them UP, then ready. Never straight from
    /// maint to ready: HAProxy 2.6 marks a server leaving maint UP before any check.
    /// The old instances are kept, stopped, as the slots' standbys; a slot whose standby runs
    /// `version` starts it again instead of a new instance (the hot rollback). `recovering`:
    /// a slot already on `version` restarts its own container (`recover`).
    func moveGroup(_ group: [Int], of record: inout ServiceRecord, to version: ProxiedService,
                   journal: inout DeployJournal, recovering: Bool = false) throws {
        let backend = record.service.name
        let servers = group.map { record.slots[$0].server }
        // The step is for a reader (where a killed deploy stopped); recovery reads only the
        // journal's versions, written durably when it began, and the state it finds: so each
        // step replaces the file without waiting for the disk, which would stall the serving
        // instances' requests a moment on every step.
        func step(_ name: String) {
            journal.slot = servers.joined(separator: ",")
            journal.step = name
            try? directory.write(journal, at: directory.journalPath(backend), durable: false)
        }
        step("drain")
        // Only slots in the rotation: leaving maint for drain would mark a slot UP unchecked.
        for index in group where record.slots[index].address != nil && record.slots[index].container != nil {
            try admin.setState(backend: backend, server: record.slots[index].server, .drain)
        }
        // Bounded by the grace period, and not an error past it: maint lets the requests still in
        // flight finish, and the stop below gives them the grace period again before SIGKILL.
        let grace = group.compactMap { record.slots[$0].version?.stopGracePeriod }.max() ?? version.stopGracePeriod
        _ = try? waitForStats(servers, of: record.service, within: grace) { $0.sessions + $0.queued == 0 }
        step("maint")
        for index in group { try admin.setState(backend: backend, server: record.slots[index].server, .maint) }
        step("stop")
        for index in group {
            let slot = record.slots[index]
            if let id = slot.container {
                instances.stop(id, signal: slot.version?.stopSignal, grace: slot.version?.stopGracePeriod ?? version.stopGracePeriod,
                               keeping: true)
            }
            if recovering, slot.container != nil, slot.version?.sameInstances(as: version) == true {
                // Already this version, left out of the rotation by a killed cycle: its own
                // container starts again below, and the standby stays. (A deploy of the version
                // a slot runs makes a new instance: that is how a user asks for fresh ones.)
                record.slots[index].address = nil
                try directory.write(record)
                continue
            }
            // The slot's standby of `version` is what it starts again below (recorded as its
            // container, stopped); the instance just stopped becomes its standby, for the
            // rollback; a standby of any other version is no one's target any more.
            let reused = slot.standby.flatMap { $0.version.sameInstances(as: version) ? $0.container : nil }
            var discarded: [String] = []
            if let standby = slot.standby, standby.container != reused { discarded.append(standby.container) }
            record.slots[index].standby = nil
            if let id = slot.container {
                if let old = slot.version { record.slots[index].standby = ServiceRecord.Standby(container: id, version: old) } else {
                    discarded.append(id)
                }
            }
            record.slots[index].container = reused
            record.slots[index].version = reused == nil ? nil : version
            record.slots[index].address = nil
            // Recorded before the removal: a berth killed in between leaves an orphan that
            // `recover` removes, never a record naming a container that is gone.
            try directory.write(record)
            for id in discarded { instances.stop(id, signal: nil, grace: 0) }
        }
        step("start")
        var started: [Int: String] = [:]
        do {
            for index in group {
                // The slot's container here is the standby chosen above (or its own, recovering).
                let instance = try instances.resumeOrStart(record.slots[index].container, reusable: true, version,
                                                           slot: record.slots[index].server)
                started[index] = instance.address
                record.slots[index].container = instance.id
                record.slots[index].version = version
                try directory.write(record)
            }
            step("probe")
            try waitForProbes(group.map { index in
                var slot = record.slots[index]
                slot.address = started[index]
                return slot
            }, of: version)
            step("address")
            for index in group {
                record.slots[index].address = started[index]
                try directory.write(record)
            }
            try directory.whileLocked("proxy") { try directory.proxy.write(directory.configuration()) }
            step("checks")
            for index in group { try bringBack(record.slots[index], of: version, ready: false) }
            try waitForStatus(servers, of: version, within: version.startTimeout) { $0 == "DRAIN" }
            step("ready")
            for index in group { try admin.setState(backend: backend, server: record.slots[index].server, .ready) }
            journal.moved += servers
        } catch {
            // The new instances of this group go; their slots stay in maint, empty, for the rollback.
            for index in group {
                try? admin.setState(backend: backend, server: record.slots[index].server, .maint)
                if let id = record.slots[index].container { instances.stop(id, signal: nil, grace: 0) }
                record.slots[index].container = nil
                record.slots[index].version = nil
            }
            try? directory.write(record)
            throw error
        }
    }

    /// A slot in maint pointed at its instance and brought back: the address, drain, health
    /// marked down (fresh checks must pass `rise` times), then ready once they have when `ready`.
    func bringBack(_ slot: ServiceRecord.Slot, of service: ProxiedService, ready: Bool = true) throws {
        guard let address = slot.address else { return }
        let backend = service.name
        try admin.setState(backend: backend, server: slot.server, .maint)
        try admin.setAddress(backend: backend, server: slot.server, address: address, port: service.port)
        try admin.setState(backend: backend, server: slot.server, .drain)
        try admin.forceHealthDown(backend: backend, server: slot.server)
        guard ready else { return }
        try waitForStatus([slot.server], of: service, within: service.startTimeout) { $0 == "DRAIN" }
        try admin.setState(backend: backend, server: slot.server, .ready)
    }

    // MARK: down

    /// Takes the service out of the proxy and stops its instances (its network stays); the
    /// last service of the project stops HAProxy too.
    public func down(_ name: String) throws {
        try directory.whileLocked("service-\(name)") {
            guard let record = try directory.record(name) else { return }
            for slot in record.slots where slot.address != nil {
                try? admin.setState(backend: name, server: slot.server, .maint)
            }
            for slot in record.slots {
                if let id = slot.container { instances.stop(id, signal: record.service.stopSignal, grace: record.service.stopGracePeriod) }
                if let standby = slot.standby { instances.stop(standby.container, signal: nil, grace: 0) }
            }
            directory.removeRecord(name)
            unlink(directory.journalPath(name))
            releaseImages(of: name)
            try directory.whileLocked("proxy") {
                let configuration = directory.configuration()
                if configuration.backends.isEmpty {
                    directory.proxy.stop()
                } else {
                    try directory.proxy.apply(configuration, reload: true)
                }
            }
        }
    }

    /// Stops the service's instances and keeps them (Ctrl-C of an attached `compose up`, as
    /// Docker Compose stops and keeps a project's containers): out of the proxy first, then each
    /// stopped the graceful way. The record stays, so `up` starts the same containers again and
    /// `down` removes them; the caller stops HAProxy once no service of the project needs it.
    public func stop(_ name: String) throws {
        try directory.whileLocked("service-\(name)") {
            guard let record = try directory.record(name) else { return }
            if directory.proxy.runningPid != nil {
                for slot in record.slots where slot.address != nil {
                    try? admin.setState(backend: name, server: slot.server, .maint)
                }
            }
            for slot in record.slots {
                guard let id = slot.container else { continue }
                let version = slot.version ?? record.service
                instances.stop(id, signal: version.stopSignal, grace: version.stopGracePeriod, keeping: true)
            }
        }
    }

    /// Starts the standbys of `version` among `slots`, and waits (within the version's start
    /// timeout) until they pass their probes, all before the first slot leaves the rotation:
    /// the boots overlap one another instead of each group's adding to the cycle, and no slot
    /// is out of the rotation while its standby boots. That is what makes a rollback hot.
    /// They stay out of HAProxy until `moveGroup` points their slots at them; one that does not
    /// start is left to its cold path, one that does not pass to its own probe.
    func warmStandbys(_ slots: [ServiceRecord.Slot], for version: ProxiedService) {
        var warmed: [ServiceRecord.Slot] = []
        for slot in slots {
            guard let standby = slot.standby, standby.version.sameInstances(as: version),
                  let (id, address) = try? instances.resume(standby.container)
            else { continue }
            warmed.append(ServiceRecord.Slot(server: slot.server, backup: slot.backup, container: id, address: address))
        }
        try? waitForProbes(warmed, of: version)
    }

    /// The standbys once a cycle is over: those of any version but `kept` (all for nil) are
    /// removed, since a deploy is confirmed by the next one, which makes its own, and a failed
    /// one keeps none; those a rollback warmed and did not use (or a killed berth left
    /// running) are stopped again.
    func settleStandbys(of record: inout ServiceRecord, keeping kept: ProxiedService?) throws {
        var discarded: [String] = []
        for index in record.slots.indices {
            guard let standby = record.slots[index].standby else { continue }
            if kept.map(standby.version.sameInstances) == true {
                if instances.isRunning(standby.container) {
                    instances.stop(standby.container, signal: standby.version.stopSignal, grace: standby.version.stopGracePeriod,
                                   keeping: true)
                }
                continue
            }
            discarded.append(standby.container)
            record.slots[index].standby = nil
        }
        guard !discarded.isEmpty else { return }
        try directory.write(record)
        for id in discarded { instances.stop(id, signal: nil, grace: 0) }
    }

    // MARK: status

    /// Each slot with HAProxy's view of it: for `compose ps`.
    public func status(_ name: String) throws -> [(slot: ServiceRecord.Slot, stat: ProxyStat?)] {
        guard let record = try directory.record(name) else {
            throw ProxyError(.notFound, "service \(name) is not up in project \(directory.project)")
        }
        let stats = (try? admin.stats()) ?? []
        return record.slots.map { slot in (slot, stats.first { $0.proxy == name && $0.server == slot.server }) }
    }

    // MARK: waiting

    private func check(_ service: ProxiedService) throws {
        guard service.replicas >= 1, service.backups >= 0, (1...65535).contains(service.port),
              (1...65535).contains(service.proxy.port), service.healthPath.hasPrefix("/"),
              !service.healthPath.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }),
              !service.name.isEmpty, service.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        else {
            throw ProxyError(.invalidArgument, "service \(service.name): needs a name of letters, digits, - and _, replicas ≥ 1, "
                             + "backups ≥ 0, ports 1-65535 and a health path starting with /")
        }
    }

    /// Probes each slot's instance directly until all pass once, within the version's start timeout.
    private func waitForProbes(_ slots: [ServiceRecord.Slot], of version: ProxiedService) throws {
        var pending = slots.filter { $0.address != nil }
        let deadline = Clock.now + Int64(version.startTimeout) * 1000
        let interval = Int64(max(50, min(version.healthcheck.intervalMilliseconds, 200)))
        while !pending.isEmpty {
            pending.removeAll { slot in
                HealthProbe.passes(address: slot.address ?? "", port: version.port, path: version.healthPath,
                                   timeoutMilliseconds: version.healthcheck.timeoutMilliseconds)
            }
            if pending.isEmpty { return }
            guard Clock.now < deadline else {
                throw ProxyError(.invalidState, "the new instance in slot \(pending[0].server) of \(version.name) "
                                 + "(\(version.image)) did not pass GET \(version.healthPath) within \(version.startTimeout) s")
            }
            if let gone = pending.first(where: { !instances.isRunning($0.container ?? "") }) {
                throw ProxyError(.invalidState, "the new instance in slot \(gone.server) of \(version.name) (\(version.image)) "
                                 + "exited before it passed GET \(version.healthPath): see berth logs \(gone.container ?? "")")
            }
            Clock.sleep(milliseconds: interval)
        }
    }

    private func waitForStatus(_ servers: [String], of service: ProxiedService, within seconds: Int,
                               _ accepts: (String) -> Bool) throws {
        try waitForStats(servers, of: service, within: seconds) { accepts($0.status) }
    }

    /// Polls `show stat` until every server's row satisfies `accepts`, for `seconds` at most.
    private func waitForStats(_ servers: [String], of service: ProxiedService, within seconds: Int,
                              _ accepts: (ProxyStat) -> Bool) throws {
        let deadline = Clock.now + Int64(seconds) * 1000
        var last: [ProxyStat] = []
        while true {
            last = try admin.stats().filter { $0.proxy == service.name && servers.contains($0.server) }
            if last.count == servers.count, last.allSatisfy(accepts) { return }
            guard Clock.now < deadline else {
                let states = last.map { "\($0.server) \($0.status) \($0["check_status"] ?? "")" }.joined(separator: ", ")
                throw ProxyError(.invalidState, "HAProxy's checks did not see \(service.name)'s new instances healthy within "
                                 + "\(seconds) s (\(states))")
            }
            Clock.sleep(milliseconds: 25)
        }
    }

    private func describe(_ error: any Error) -> String {
        (error as? ProxyError)?.message ?? "\(error)"
    }
}
