import JSON
import Testing

/// The error `JSON.decode` throws, or nil when it decodes.
func decodeError<T: Decodable>(_ type: T.Type, _ text: String, source: String? = nil) -> JSONError? {
    do {
        _ = try JSON.decode(type, from: text, source: source)
        return nil
    } catch {
        return error
    }
}

func encodeError<T: Encodable>(_ value: T) -> JSONError? {
    do {
        _ = try JSON.encode(value)
        return nil
    } catch {
        return error
    }
}

func encoded<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
    try JSON.encodeToString(value, pretty: pretty)
}

enum Color: String, Codable, Equatable {
    case red, green
    case lightBlue = "light-blue"
}

enum Level: Int, Codable, Equatable {
    case low = 1, high = 10
}

struct Pet: Codable, Equatable {
    var name: String
    var color: Color
    var level: Level
    var tags: [String]
    var weight: Double?
    var nickname: String?
}

struct Owner: Codable, Equatable {
    var firstName: String
    var petCount: Int
    var pets: [Pet]
    var scores: [String: Int]
    var home: Address?

    enum CodingKeys: String, CodingKey {
        case firstName = "first_name"
        case petCount = "pet_count"
        case pets, scores, home
    }
}

struct Address: Codable, Equatable {
    var street: String
    var floor: Int8
}

/// A value that validates itself, as `Digest` does in ImageStore: its own error, not a Codable one.
struct Checked: Codable, Equatable {
    struct Invalid: Error, CustomStringConvertible {
        let text: String
        var description: String { "not a sha256 digest: \(text)" }
    }

    let text: String

    init(_ text: String) {
        self.text = text
    }

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard text.hasPrefix("sha256:") else { throw Invalid(text: text) }
        self.text = text
    }

    func encode(to encoder: any Encoder) throws {
        guard text.hasPrefix("sha256:") else { throw Invalid(text: text) }
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

struct Layer: Codable, Equatable {
    var digest: Checked
    var size: Int64
}

struct Layers: Codable, Equatable {
    var layers: [Layer]
}

/// Throws a `JSONError` it built itself, without a path.
struct SelfReporting: Decodable {
    init(from decoder: any Decoder) throws {
        throw JSONError(kind: .invalidValue, message: "refused")
    }
}

struct Limits: Codable, Equatable {
    var min: Int64
    var max: Int64
    var umax: UInt64
    var small: UInt8
}

struct Ratio: Codable {
    var ratio: Double
}

struct Process: Codable { var user: User }
struct User: Codable { var uid: UInt32; var gid: UInt32 }
struct Spec: Codable { var process: Process }

@Suite("Codable")
struct CodableTests {
    static let owner = Owner(
        firstName: "Ada", petCount: 2,
        pets: [
            Pet(name: "Rex", color: .lightBlue, level: .high, tags: ["a", "b"], weight: 12.5, nickname: nil),
            Pet(name: "Tom", color: .red, level: .low, tags: [], weight: nil, nickname: "T"),
        ],
        scores: ["zeta": 1, "alpha": 2, "Mid": 3, "beta": 4, "b": 5, "a": 6, "é": 7, "z2": 8, "z10": 9],
        home: Address(street: "Main", floor: -1))

    static let ownerJSON = #"{"first_name":"Ada","pet_count":2,"pets":[{"name":"Rex","color":"light-blue","level":10,"tags":["a","b"],"#
        + #""weight":12.5},{"name":"Tom","color":"red","level":1,"tags":[],"nickname":"T"}],"#
        + #""scores":{"Mid":3,"a":6,"alpha":2,"b":5,"beta":4,"z10":9,"z2":8,"zeta":1,"é":7},"home":{"street":"Main","floor":-1}}"#

    @Suite("encoding")
    struct Encoding {
        @Test func exactOutputWithDeclaredOrderSortedDictionaryKeysAndAbsentNils() throws {
            #expect(try encoded(CodableTests.owner) == CodableTests.ownerJSON)
        }

        @Test func sameValueGivesSameBytesEveryTime() throws {
            var big: [String: Int] = [:]
            for i in 0..<200 { big["key\(i)"] = i }
            let first = try JSON.encode(big)
            for _ in 0..<5 {
                #expect(try JSON.encode(big) == first)
            }
            let keys = try JSON.parse(first).object?.map(\.key) ?? []
            #expect(keys == keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            #expect(keys.count == 200)
        }

        @Test func pretty() throws {
            let expected = """
                {
                  "street": "Main",
                  "floor": -1
                }
                """
            #expect(try encoded(Address(street: "Main", floor: -1), pretty: true) == expected)
        }

        @Test func sixtyFourBitExtremesRoundTripExactly() throws {
            let limits = Limits(min: .min, max: .max, umax: .max, small: 255)
            let text = try encoded(limits)
            #expect(text == #"{"min":-9223372036854775808,"max":9223372036854775807,"umax":18446744073709551615,"small":255}"#)
            #expect(try JSON.decode(Limits.self, from: text) == limits)
            #expect(try JSON.decode([UInt64].self, from: "[18446744073709551615]") == [UInt64.max])
            #expect(try JSON.decode(Int64.self, from: "-9223372036854775808") == Int64.min)
        }

        @Test(arguments: [Double.nan, .infinity, -.infinity])
        func nonFiniteDoublesAreRefused(value: Double) throws {
            let top = try #require(encodeError(value))
            #expect(top.kind == .invalidValue)
            #expect(top.description == "at the top level: cannot encode \(value): JSON numbers are finite")
            let nested = try #require(encodeError(["values": [Ratio(ratio: 1), Ratio(ratio: value)]]))
            #expect(nested.description == "at values[1].ratio: cannot encode \(value): JSON numbers are finite")
            #expect(encodeError([Float.nan]) != nil)
        }

        @Test func floatsUseTheirOwnShortestText() throws {
            #expect(try encoded([Float(0.1), 1.5]) == "[0.1,1.5]")
        }

        @Test func typeOwnErrorCarriesThePath() throws {
            let value = Layers(layers: [Layer(digest: Checked("sha256:aa"), size: 1), Layer(digest: Checked("md5:bb"), size: 2)])
            let error = try #require(encodeError(value))
            #expect(error.description == "at layers[1].digest: not a sha256 digest: md5:bb")
            #expect(error.cause is Checked.Invalid)
        }

        @Test func jsonValueIsWrittenWhole() throws {
            let raw: JSONValue = ["b": 1, "a": 2, "b": 3]
            #expect(try encoded(["x": raw]) == #"{"x":{"b":1,"a":2,"b":3}}"#)
            #expect(try JSON.encodeToValue(CodableTests.owner.home) == ["street": "Main", "floor": -1])
        }
    }

    @Suite("decoding")
    struct Decoding {
        @Test func roundTrip() throws {
            let decoded = try JSON.decode(Owner.self, from: CodableTests.ownerJSON)
            #expect(decoded == CodableTests.owner)
            #expect(try JSON.decode(Owner.self, from: JSON.encode(decoded)) == decoded)
        }

        @Test(arguments: [
            #"{"name":"a","color":"red","level":1,"tags":[]}"#,
            #"{"name":"a","color":"red","level":1,"tags":[],"weight":null,"nickname":null}"#,
        ])
        func optionalsMissingOrNullAreNil(text: String) throws {
            let pet = try JSON.decode(Pet.self, from: text)
            #expect(pet.weight == nil)
            #expect(pet.nickname == nil)
        }

        @Test func unknownKeysAreIgnored() throws {
            let text = #"{"street":"Main","extra":{"deep":[1,2,{"x":null}]},"floor":3,"zzz":true}"#
            #expect(try JSON.decode(Address.self, from: text) == Address(street: "Main", floor: 3))
        }

        @Test func largeObjectsAndDuplicateKeys() throws {
            var members: [String] = []
            for i in 0..<40 { members.append("\"k\(i)\":\(i)") }
            members.append("\"k3\":300")
            let dictionary = try JSON.decode([String: Int].self, from: "{" + members.joined(separator: ",") + "}")
            #expect(dictionary.count == 40)
            #expect(dictionary["k3"] == 300)
            #expect(try JSON.decode(Address.self, from: #"{"street":"a","floor":1,"street":"b"}"#).street == "b")
        }

        @Test func integersMustBeExact() throws {
            #expect(try JSON.decode(Int.self, from: "2.0") == 2)
            #expect(try JSON.decode(UInt8.self, from: "1e2") == 100)
            #expect(decodeError(Int.self, "2.5")?.description == "at the top level: expected an integer, found 2.5")
            #expect(decodeError(UInt8.self, "300")?.description == "at the top level: 300 is out of range for UInt8")
            #expect(decodeError(UInt8.self, "-1")?.kind == .invalidValue)
            #expect(decodeError(Int64.self, "-9223372036854775809")?.description
                == "at the top level: -9223372036854775809 is out of range for Int64")
            #expect(decodeError(UInt64.self, "18446744073709551616")?.description
                == "at the top level: 18446744073709551616 is out of range for UInt64")
            #expect(try JSON.decode(Double.self, from: "18446744073709551616") == 18446744073709551616.0)
            #expect(decodeError(Float.self, "1e300")?.description == "at the top level: 1e+300 is out of range for Float")
        }

        @Test func jsonValueFieldsKeepOrderAndDuplicates() throws {
            struct Holder: Codable { var name: String; var extra: JSONValue; var list: [JSONValue] }
            struct Whole: Decodable {
                let raw: JSONValue
                init(from decoder: any Decoder) throws { raw = try JSONValue(from: decoder) }
            }
            let text = #"{"name":"n","extra":{"b":1,"a":[true],"b":2},"list":[null,{"y":1,"x":2}]}"#
            let holder = try JSON.decode(Holder.self, from: text)
            #expect(holder.extra.description == #"{"b":1,"a":[true],"b":2}"#)
            #expect(try encoded(holder) == text)
            #expect(try JSON.decode(Whole.self, from: text).raw == JSON.parse(text))
        }
    }

    @Suite("errors name the path")
    struct Errors {
        @Test func wrongTypeDeepInside() throws {
            let text = #"{"process":{"user":{"uid":"0","gid":0}}}"#
            let error = try #require(decodeError(Spec.self, text))
            #expect(error.kind == .typeMismatch)
            #expect(error.path == "process.user.uid")
            #expect(error.description == "at process.user.uid: expected a number, found a string")
            #expect(decodeError(Spec.self, text, source: "config.json")?.description
                == "config.json: at process.user.uid: expected a number, found a string")
        }

        @Test(arguments: [
            (#"{"process":{"user":{"uid":null,"gid":0}}}"#, "at process.user.uid: expected a number, found null",
             JSONError.Kind.missingValue),
            (#"{"process":{"user":{"gid":0}}}"#, #"at process.user: missing required key "uid""#, .missingValue),
            (#"{"process":[]}"#, "at process: expected an object, found an array", .typeMismatch),
            (#"[]"#, "at the top level: expected an object, found an array", .typeMismatch),
            (#"{"process":{"user":{"uid":1.5,"gid":0}}}"#, "at process.user.uid: expected an integer, found 1.5",
             .typeMismatch),
            (#"{"process":{"user":{"uid":-1,"gid":0}}}"#, "at process.user.uid: -1 is out of range for UInt32",
             .invalidValue),
        ])
        func specErrors(text: String, description: String, kind: JSONError.Kind) throws {
            let error = try #require(decodeError(Spec.self, text))
            #expect(error.description == description)
            #expect(error.kind == kind)
        }

        @Test func arrayElementsAndOddKeys() throws {
            #expect(decodeError(Owner.self, #"{"first_name":"a","pet_count":1,"pets":[{"name":"x","color":"red","level":1,"tags":[]},"#
                                + #"{"name":"y","color":"red","level":1,"tags":["ok",3]}],"scores":{}}"#)?.description
                == "at pets[1].tags[1]: expected a string, found a number")
            #expect(decodeError([String: Int].self, #"{"org.opencontainers.image.title":"x"}"#)?.description
                == #"at ["org.opencontainers.image.title"]: expected a number, found a string"#)
            #expect(decodeError([String: [Int]].self, #"{"a":[1,true]}"#)?.description
                == "at a[1]: expected a number, found a boolean")
            #expect(decodeError(Pet.self, #"{"name":"a","color":"purple","level":1,"tags":[]}"#)?.path == "color")
            #expect(decodeError(Pet.self, #"{"name":"a","color":"red","level":2,"tags":[]}"#)?.kind == .invalidValue)
        }

        @Test func typeOwnErrorCarriesThePath() throws {
            let text = #"{"layers":[{"digest":"sha256:aa","size":1},{"digest":"md5:bb","size":2}]}"#
            let error = try #require(decodeError(Layers.self, text, source: "manifest.json"))
            #expect(error.kind == .invalidValue)
            #expect(error.path == "layers[1].digest")
            #expect(error.description == "manifest.json: at layers[1].digest: not a sha256 digest: md5:bb")
            #expect((error.cause as? Checked.Invalid)?.text == "md5:bb")

            #expect(decodeError(Checked.self, #""md5:bb""#)?.description == "at the top level: not a sha256 digest: md5:bb")
            #expect(decodeError([String: Checked].self, #"{"a":"sha256:x","b":"no"}"#)?.description
                == "at b: not a sha256 digest: no")
            #expect(decodeError([Checked?].self, #"[null,"no"]"#)?.description == "at [1]: not a sha256 digest: no")
        }

        @Test func selfMadeJSONErrorIsGivenThePath() throws {
            struct Outer: Decodable { var inner: [SelfReporting] }
            let error = try #require(decodeError(Outer.self, #"{"inner":[1]}"#))
            #expect(error.description == "at inner[0]: refused")
        }

        @Test func syntaxErrorsComeThroughDecode() throws {
            #expect(decodeError(Spec.self, "{\n  \"process\": {,}\n}", source: "config.json")?.description
                == "config.json: JSON error at line 2, column 15: expected a string key or '}'")
        }
    }
}
