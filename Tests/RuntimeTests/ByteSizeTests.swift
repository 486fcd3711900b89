import Testing
import Runtime

/// Sizes as `--memory` takes them, and the way messages print them.
@Suite("Byte sizes") struct ByteSizeTests {
    static let kib: Int64 = 1024
    static let mib: Int64 = 1024 * 1024
    static let gib: Int64 = 1024 * 1024 * 1024

    @Suite("parse") struct Parse {
        @Test(arguments: [
            ("64m", 64 * mib),
            ("1g", gib),
            ("512k", 512 * kib),
            ("100", 100),
            ("67108864", 64 * mib),
            ("1.5g", 3 * gib / 2),
            ("0.5m", mib / 2),
            ("64mb", 64 * mib),
            ("64MB", 64 * mib),
            ("64M", 64 * mib),
            ("2G", 2 * gib),
            ("2gb", 2 * gib),
            ("4kb", 4 * kib),
            ("4KB", 4 * kib),
            ("100b", 100),
            ("100B", 100),
            ("1", 1),
        ] as [(String, Int64)])
        func good(text: String, bytes: Int64) throws {
            #expect(try ByteSize.parse(text) == bytes)
        }

        @Test(arguments: [
            "", "m", "b", "kb", "mb", "-1", "-64m", "abc", "1x", "0", "0m", "1.2.3", ".", "1e3", " 64m", "64m ",
            "64 m", "64mm", "64bm", "1t", "+5", "0x10", "99999999999g",
        ])
        func bad(text: String) {
            let error = #expect(throws: RuntimeError.self) { try ByteSize.parse(text) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.description
                == "invalid size \"\(text)\": use a number of bytes or a number with k, m or g (e.g. 64m)")
        }

        @Test func justBelowInt64MaxIsAcceptedAndTheLimitIsNot() throws {
            // 2^63 bytes = 8 Gi GiB does not fit an Int64.
            #expect(throws: RuntimeError.self) { try ByteSize.parse("8589934592g") }
            #expect(try ByteSize.parse("8589934591g") == 8_589_934_591 * gib)
        }
    }

    @Suite("describe") struct Describe {
        @Test(arguments: [
            (64 * mib, "64 MiB"),
            (gib, "1 GiB"),
            (3 * gib / 2, "1.5 GiB"),
            (512 * kib, "512 KiB"),
            (1536, "1.5 KiB"),
            (kib, "1 KiB"),
            (1023, "1023 bytes"),
            (0, "0 bytes"),
            (100 * mib + mib / 4, "100.3 MiB"),   // 100.25 rounds half up
            (mib + 1, "1.0 MiB"),
            (2048 * mib, "2 GiB"),
        ] as [(Int64, String)])
        func text(bytes: Int64, text: String) {
            #expect(ByteSize.describe(bytes) == text)
        }

        @Test(arguments: ["64m", "1g", "512k", "1.5g", "100"])
        func roundTripsThroughParse(text: String) throws {
            let bytes = try ByteSize.parse(text)
            let parts = ByteSize.describe(bytes).split(separator: " ").map(String.init)
            try #require(parts.count == 2)
            let suffix = ["bytes": "", "KiB": "k", "MiB": "m", "GiB": "g"][parts[1]]
            #expect(suffix != nil)
            #expect(try ByteSize.parse(parts[0] + (suffix ?? "?")) == bytes)
        }
    }
}

@Suite("ByteSize bounds") struct ByteSizeBounds {
    @Test("a size that rounds to zero bytes is refused") func belowOneByte() {
        #expect(throws: RuntimeError.self) { try ByteSize.parse("0.1") }
    }

    @Test("describing sizes near Int64.max does not overflow") func hugeDescribe() {
        #expect(ByteSize.describe(Int64.max) == "8589934592 GiB")
        #expect(ByteSize.describe(Int64.max - (1 << 29)) == "8589934591.5 GiB")
    }
}
