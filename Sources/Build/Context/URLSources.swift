import FileSystem
import ImageStore
import Registry

/// ADD's http(s) sources, downloaded into a directory of the step's own: each with its digest,
/// which is part of the step's cache key (an unchanged file at the URL keeps the cache), and the
/// server's Last-Modified as its mtime, as Docker sets it.
struct URLSources {
    struct Download {
        let url: String
        let path: String
        let file: DownloadedFile
    }

    let directory: String
    let files: [Download]

    /// Downloads `urls` into `directory`, which is removed again when one fails; `checksum`
    /// (`ADD --checksum`) is the digest the one URL's content must have.
    static func fetch(_ urls: [String], into directory: String, checksum: Digest?, progress: BuildProgress) throws -> URLSources {
        var files: [Download] = []
        do {
            for (index, url) in urls.enumerated() {
                progress.line("Downloading \(url)")
                let path = directory + "/" + String(index)
                let file = try FileDownload.fetch(url, to: path)
                if let checksum, checksum != file.digest {
                    throw BuildError(.corrupt, "\(url) has the digest \(file.digest), not the --checksum \(checksum)")
                }
                files.append(Download(url: url, path: path, file: file))
            }
        } catch {
            try? FileTree.remove(directory)
            throw error
        }
        return URLSources(directory: directory, files: files)
    }

    /// The name a download takes in a destination directory: the last component of the URL's
    /// path, percent-decoded (`https://host/dl/app%201.tgz` gives `app 1.tgz`); nil when the
    /// path names no file (`https://host/`).
    static func fileName(_ url: String) -> String? {
        var rest = Substring(url)
        for scheme in ["https://", "http://"] where rest.hasPrefix(scheme) { rest = rest.dropFirst(scheme.count) }
        rest = rest.prefix { $0 != "?" && $0 != "#" }
        let components = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard components.count > 1, let last = components.last else { return nil }
        let name = percentDecoded(last)
        return name.isEmpty || name == "." || name == ".." || name.contains("/") ? nil : name
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2, utf8.prefix(2).allSatisfy(isHexDigit),
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
    }
}
