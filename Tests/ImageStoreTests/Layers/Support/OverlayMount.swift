import Foundation

/// An overlayfs mount for a test, unmounted (lazily, so a busy mount cannot leak) by `unmount`,
/// which the test calls from a `defer` right after mounting.
struct OverlayMount {
    let target: String

    /// `lowers` topmost first. Without `upper` the mount is read-only, as overlay requires.
    /// redirect_dir and metacopy are off, as berth must mount containers for `commit` to work.
    static func mount(lowers: [String], upper: String? = nil, work: String? = nil, at target: String) throws -> OverlayMount {
        var options = "lowerdir=" + lowers.joined(separator: ":")
        if let upper, let work { options += ",upperdir=\(upper),workdir=\(work)" }
        options += ",redirect_dir=off,metacopy=off,index=off"
        let rc = options.withCString { Glibc.mount("overlay", target, "overlay", 0, $0) }
        guard rc == 0 else { throw FixtureError("mount overlay on \(target) (\(options)): errno \(errno)") }
        return OverlayMount(target: target)
    }

    func unmount() {
        _ = umount2(target, Int32(MNT_DETACH))
    }
}
