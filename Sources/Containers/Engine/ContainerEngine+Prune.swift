import FileSystem
import ImageStore
#if canImport(Glibc)
import Glibc
#endif

/// `container prune`, `system df` and `system prune`.
extension ContainerEngine {
    /// Removes every container that is not up (created, exited, dead); returns their ids and the
    /// bytes of their own layers. One that another command starts meanwhile is left alone.
    public func pruneContainers() -> (removed: [String], reclaimedBytes: Int64) {
        var removed: [String] = []
        var bytes: Int64 = 0
        for record in list() where !state(of: record).isUp {
            let size = record.hasImage ? DiskUsage.bytes(ofTree: store.upperDirectory(of: record.id)) : 0
            guard (try? remove(record, force: false)) != nil else { continue }
            removed.append(record.id)
            bytes += size
        }
        return (removed, bytes)
    }

    /// The manifest digests the containers use: images a prune must keep.
    public func manifestsInUse() -> Set<Digest> {
        Set(store.all().compactMap { Digest($0.imageManifest) })
    }

    /// What `system df` shows: per kind, how many, how many in use, their bytes and how many of
    /// those a prune could free.
    public struct DiskUsageSummary: Sendable, Equatable {
        public struct Line: Sendable, Equatable {
            public var total = 0
            public var active = 0
            public var bytes: Int64 = 0
            public var reclaimableBytes: Int64 = 0
        }

        public var images = Line()
        public var containers = Line()
        public var volumes = Line()
        /// The build's step images (all reclaimable: no container keeps a step of a build).
        public var buildCache = Line()
    }

    public func diskUsage() throws -> DiskUsageSummary {
        var summary = DiskUsageSummary()
        let records = list()
        let used = Set(records.compactMap { Digest($0.imageManifest) })
        // An image tagged twice is one image: counted once, by its manifest.
        var seen = Set<Digest>()
        for image in try images().images(includeUntagged: true) where seen.insert(image.manifest).inserted {
            summary.images.total += 1
            summary.images.bytes += image.size
            if used.contains(image.manifest) { summary.images.active += 1 } else { summary.images.reclaimableBytes += image.size }
        }
        for record in records {
            let size = record.hasImage ? DiskUsage.bytes(ofTree: store.upperDirectory(of: record.id)) : 0
            summary.containers.total += 1
            summary.containers.bytes += size
            if state(of: record).isUp { summary.containers.active += 1 } else { summary.containers.reclaimableBytes += size }
        }
        let cache = try images().buildCacheUsage()
        summary.buildCache = .init(total: cache.images, active: 0, bytes: cache.bytes, reclaimableBytes: cache.bytes)
        let usedVolumes = Set(records.flatMap { $0.mounts.filter { $0.type == "volume" }.map(\.name) })
        for volume in volumes.all() {
            let size = volumes.diskUsage(of: volume.name)
            summary.volumes.total += 1
            summary.volumes.bytes += size
            if usedVolumes.contains(volume.name) { summary.volumes.active += 1 } else { summary.volumes.reclaimableBytes += size }
        }
        return summary
    }
}

/// The bytes a tree takes on disk (st_blocks), links not followed, mounts not entered.
enum DiskUsage {
    static func bytes(ofTree path: String) -> Int64 {
        var total: Int64 = 0
        var top = stat()
        guard lstat(path, &top) == 0 else { return 0 }
        func walk(_ path: String, device: dev_t, depth: Int) {
            // Deeper than any real tree: a bound on the recursion, not a limit anyone meets.
            guard depth < 4096, let entries = try? Directory.entries(atPath: path) else { return }
            for entry in entries {
                let child = path + "/" + String(decoding: entry.name, as: UTF8.self)
                var st = stat()
                guard lstat(child, &st) == 0 else { continue }
                total += Int64(st.st_blocks) * 512
                if st.st_mode & S_IFMT == S_IFDIR, st.st_dev == device { walk(child, device: device, depth: depth + 1) }
            }
        }
        walk(path, device: top.st_dev, depth: 0)
        return total
    }
}
