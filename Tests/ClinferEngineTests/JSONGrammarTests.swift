import Foundation
import Testing

@testable import ClinferEngine

@Suite("JSON grammar: schema-constrained bytes, across token boundaries")
struct JSONGrammarTests {
    static func schema(_ json: String) throws -> JSONSchema {
        try JSONSchema(json: JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)))
    }

    static let person = """
        {"type": "object", "properties": {
          "name": {"type": "string", "minLength": 1, "maxLength": 8},
          "age": {"type": "integer"},
          "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
          "ok": {"type": "boolean"}, "none": {"type": "null"},
          "color": {"enum": ["red", "green", 12, 1, null]}},
          "required": ["name", "age"], "additionalProperties": false}
        """

    /// Feeds `pieces` as tokens: each must be accepted as a whole, then is fed.
    static func run(_ schema: JSONSchema, _ pieces: [String]) -> (accepted: Bool, complete: Bool) {
        var grammar = JSONGrammar(schema: schema)
        for piece in pieces {
            guard grammar.accepts(piece.utf8) else { return (false, grammar.isComplete) }
            for byte in piece.utf8 { grammar.feed(byte) }
        }
        return (true, grammar.isComplete)
    }

    @Test("valid documents are accepted byte by byte and whole; the root's end is the end")
    func validDocuments() throws {
        let person = try Self.schema(Self.person)
        for text in [
            #"{"name":"Ann","age":31}"#, #"{"name": "Ann", "age": -4, "ok": true, "tags": ["a", "b"]}"#,
            #"{"name":"\u00e9\n\"x","age":0,"color":"green","none":null}"#, #"{"name":"日本語","age":7,"color":12}"#,
            #"{"name":"A","age":1,"color":1}"#, #"{"name":"A","age":1,"tags":[]}"#,
        ] {
            #expect(Self.run(person, text.map(String.init)) == (true, true), "\(text)")
            #expect(Self.run(person, [text]) == (true, true), "\(text)")
        }
        var grammar = JSONGrammar(schema: person)
        for byte in #"{"name":"A","age":1}"#.utf8 { grammar.feed(byte) }
        #expect(grammar.isComplete && grammar.canEnd && !grammar.accepts(" ".utf8) && !grammar.accepts("}".utf8))
    }

    @Test("tokens that close one value and open the next, split keys, escapes and numbers")
    func tokenBoundaries() throws {
        let person = try Self.schema(Self.person)
        let pieces = ["{\"", "na", "me\": \"A", "\\", "n\\u00", "e9\",", " \"age\": 3", "1,\"tags\":[\"x", "\"]}"]
        #expect(Self.run(person, pieces) == (true, true))
        #expect(Self.run(person, ["{\"name\":\"Bo\",\"age\":5}"]) == (true, true))
        // A number ends where the next structural byte starts, inside one token.
        let numbers = try Self.schema(#"{"type":"array","items":{"type":"number"}}"#)
        #expect(Self.run(numbers, ["[1", ".5e", "-3,", "0,-2", "]"]) == (true, true))
        #expect(Self.run(numbers, ["[1.", "]"]).accepted == false)
    }

    @Test("what the schema forbids is rejected where it first goes wrong")
    func rejections() throws {
        let person = try Self.schema(Self.person)
        let invalid = [
            #"{"age":1"#,  // a required property skipped
            #"{"name":"A"}"#,  // closed before a required property
            #"{"name":"A","age":1,"extra":1"#,  // not in properties
            #"{"name":"A","age":1.5"#,  // integer with a fraction
            #"{"name":"","#,  // shorter than minLength
            #"{"name":"ABCDEFGHI"#,  // longer than maxLength
            #"{"name":"A","age":01"#,  // a leading zero
            #"{ "name""#,  // a space where none is allowed
            "{\"name\":\"a\u{01}",  // a control character in a string
            #"{"name":"A","age":1,"tags":["a","b","c""#,  // more than maxItems
            #"{"name":"A","age":1,"color":"blue""#,  // not in the enum
            #"{"name":"A","age":1,"ok":tru}"#, #"{"name":"A","age":1,"none":nul"l"#, #"{"name":"A\x","#,
            #"{"name":"A","name""#,  // a property twice
            #"{"name":"A","age":1,"tags":[],"ok":true"#,  // out of the grammar's order (required, then by name)
        ]
        for text in invalid {
            #expect(Self.run(person, [text]).accepted == false, "\(text)")
        }
        // Bytes that are not UTF-8 (a stray continuation byte, a lead byte cut short) never
        // enter a string: its length is what a reader counts.
        var grammar = JSONGrammar(schema: person)
        for byte in #"{"name":""#.utf8 { grammar.feed(byte) }
        #expect(
            !grammar.accepts([0x80]) && !grammar.accepts([0xE6, 0x97, 0x22]) && grammar.accepts([0xE6, 0x97, 0xA5]))
        #expect(Self.run(person, [#"{"name":"A","age":1}"#, " "]).accepted == false)
    }

    @Test("json_object mode: any object, nested, with a depth limit")
    func anyObject() throws {
        #expect(Self.run(.anyObject, [#"{"a":[1,{"b":null},"c",true,-0.5e3],"d":{}}"#]) == (true, true))
        #expect(Self.run(.anyObject, ["[1]"]).accepted == false)
        #expect(Self.run(.anyObject, ["{}"]) == (true, true))
        let deep = "{\"a\":" + String(repeating: "[", count: JSONGrammar.maxDepth)
        #expect(Self.run(.anyObject, [deep]).accepted == false)
    }

    @Test("a top-level number may end at any digit; strings and objects end at their closing byte")
    func endings() throws {
        var number = JSONGrammar(schema: .number(integer: false))
        for byte in "12".utf8 { number.feed(byte) }
        #expect(number.canEnd && !number.isComplete && number.accepts("3".utf8))
        var string = JSONGrammar(schema: .string(minLength: 0, maxLength: nil))
        for byte in "\"x\"".utf8 { string.feed(byte) }
        #expect(string.isComplete)
    }

    @Test("schemas: unsupported keywords are errors naming them; bad schemas are errors")
    func schemaErrors() throws {
        #expect(throws: JSONSchema.SchemaError.unsupported(keyword: "pattern", path: "$.name")) {
            try Self.schema(#"{"type":"object","properties":{"name":{"type":"string","pattern":"a+"}}}"#)
        }
        #expect(throws: JSONSchema.SchemaError.unsupported(keyword: "anyOf", path: "$")) {
            try Self.schema(#"{"anyOf":[{"type":"string"}]}"#)
        }
        #expect(throws: JSONSchema.SchemaError.self) { try Self.schema(#"{"type":"object","required":["x"]}"#) }
        #expect(throws: JSONSchema.SchemaError.self) {
            try Self.schema(#"{"type":"object","additionalProperties":{"type":"string"}}"#)
        }
        #expect(throws: JSONSchema.SchemaError.self) { try Self.schema(#"{"type":"strin"}"#) }
        #expect(throws: JSONSchema.SchemaError.self) { try Self.schema(#"{"type":"string","maxLength":-1}"#) }
        #expect(
            try Self.schema(#"{"type":["string","null"]}"#) == .union([.string(minLength: 0, maxLength: nil), .null]))
        #expect(try Self.schema(#"{"const":{"b":1,"a":[true]}}"#) == .oneOf([#"{"a":[true],"b":1}"#]))
        #expect(try Self.schema(#"{"type":"object"}"#) == .anyObject)
        // Size bounds: a huge enum or a deep nesting is refused before any generation.
        let values = (0...JSONSchema.maxEnumValues).map(String.init).joined(separator: ",")
        #expect(throws: JSONSchema.SchemaError.self) { try Self.schema("{\"enum\":[\(values)]}").checkSize() }
        let deep = String(repeating: #"{"type":"array","items":"#, count: 20) + "{}" + String(repeating: "}", count: 20)
        #expect(throws: JSONSchema.SchemaError.self) { try Self.schema(deep).checkSize() }
        try Self.schema(Self.person).checkSize()
        #expect(
            try Self.schema(#"{"type":"object","additionalProperties":false}"#)
                == .object(properties: [], required: [], freeForm: false))
    }
}
