/// A JSON number as berth keeps it: integers exactly, everything else as a `Double`.
///
/// JSON numbers have no size limit, but the ones berth meets are sizes, ids and limits that must
/// survive a round trip bit for bit (`"hard": 18446744073709551615` in an rlimit is
/// `UInt64.max`, which a `Double` would round). So text without a fraction or exponent is kept
/// as an `Int64`, or as a `UInt64` above `Int64.max`, or, beyond 64 bits, as its decimal text:
/// it is written back unchanged and no 64-bit type accepts it (it is not silently rounded into
/// range). Anything else becomes the nearest `Double`. A `JSONNumber` is never NaN or infinite:
/// JSON cannot say those, and a number too large for a `Double` is refused by the parser.
/// `-0` is the integer 0 (integers have no negative zero); `-0.0` stays the `Double` -0.0.
public struct JSONNumber: Sendable, CustomStringConvertible {
    /// `.unsigned` only ever holds values above `Int64.max`, and `.wideInteger` only integers
    /// beyond the range of both, so each integer has one form.
    @usableFromInline
    enum Storage: Sendable {
        case signed(Int64)
        case unsigned(UInt64)
        /// An integer beyond 64 bits, as canonical decimal text (optional '-', no leading zeros).
        case wideInteger(String)
        case double(Double)
    }

    @usableFromInline
    let storage: Storage

    init(storage: Storage) {
        self.storage = storage
    }

    /// An integer, kept exactly whatever its width.
    public init<T: BinaryInteger>(_ value: T) {
        if let signed = Int64(exactly: value) {
            storage = .signed(signed)
        } else if let unsigned = UInt64(exactly: value) {
            storage = .unsigned(unsigned)
        } else {
            storage = .wideInteger(String(value))
        }
    }

    /// A floating-point number; nil for NaN and the infinities, which JSON cannot represent.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        storage = .double(value)
    }

    /// Whether the number was written (or made) as an integer, without fraction or exponent.
    public var isInteger: Bool {
        if case .double = storage { return false }
        return true
    }

    /// The number as a `T` when it is exactly representable, else nil: `3` fits an `UInt8`,
    /// `300` and `3.5` do not; `2.0` and `1e2` count as the integers 2 and 100.
    /// Inlinable so that a caller gets it specialized for its type: the generic one goes through
    /// the integer protocols' witness tables, which a launch spec's forty numbers paid for.
    @inlinable
    public func integer<T: FixedWidthInteger>(as type: T.Type = T.self) -> T? {
        switch storage {
        case .signed(let value): return T(exactly: value)
        case .unsigned(let value): return T(exactly: value)
        case .wideInteger(let text): return T(text)
        case .double(let value): return T(exactly: value)
        }
    }

    /// The number as an `Int64` when it is exactly one.
    public var int64: Int64? { integer(as: Int64.self) }

    /// The number as a `UInt64` when it is exactly one.
    public var uint64: UInt64? { integer(as: UInt64.self) }

    /// The number as a `Double`; integers beyond 2^53 are rounded to the nearest.
    public var double: Double {
        switch storage {
        case .signed(let value): return Double(value)
        case .unsigned(let value): return Double(value)
        // The parser and `init(_:)` only make texts that `Double` reads as a finite value.
        case .wideInteger(let text): return Double(text) ?? .nan
        case .double(let value): return value
        }
    }

    /// The number as JSON text: integers in decimal, doubles in the shortest form that reads
    /// back to the same `Double` (Swift's `description`, e.g. `0.1`, `100.0`, `1e-07`).
    public var description: String {
        switch storage {
        case .signed(let value): return value.description
        case .unsigned(let value): return value.description
        case .wideInteger(let text): return text
        case .double(let value): return value.description
        }
    }
}

extension JSONNumber: Equatable {
    /// Numbers are equal when they are the same number, whatever their form: `2` equals `2.0`.
    /// Comparisons are exact, never through a rounding conversion.
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case (.signed(let a), .signed(let b)): return a == b
        case (.unsigned(let a), .unsigned(let b)): return a == b
        case (.wideInteger(let a), .wideInteger(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        // Each integer has one form, so different integer forms are different numbers.
        case (.signed, .unsigned), (.unsigned, .signed), (.signed, .wideInteger), (.wideInteger, .signed),
             (.unsigned, .wideInteger), (.wideInteger, .unsigned):
            return false
        case (.signed(let a), .double(let b)), (.double(let b), .signed(let a)): return Int64(exactly: b) == a
        case (.unsigned(let a), .double(let b)), (.double(let b), .unsigned(let a)): return UInt64(exactly: b) == a
        case (.wideInteger(let a), .double(let b)), (.double(let b), .wideInteger(let a)):
            // Exact below 2^127; a wide integer beyond that is never equal to a double.
            return Int128(exactly: b)?.description == a
        }
    }
}

extension JSONNumber: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    public init(integerLiteral value: Int64) {
        storage = .signed(value)
    }

    public init(floatLiteral value: Double) {
        precondition(value.isFinite, "JSON numbers are finite")
        storage = .double(value)
    }
}
