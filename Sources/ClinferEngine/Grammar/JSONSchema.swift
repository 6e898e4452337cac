/// The subset of JSON Schema that constrained generation enforces (OpenAI's structured-output
/// subset): `type` (one or a list), `properties`, `required`, `additionalProperties: false`,
/// `items`, `minItems`/`maxItems`, `enum`, `const`, `minLength`/`maxLength`; annotations
/// (`title`, `description`, `$schema`, `default`, `examples`) are ignored. Any other keyword is
/// ``SchemaError/unsupported(keyword:path:)`` naming it, never silently ignored.
///
/// Generated objects hold only the listed properties (every output still validates: extra
/// properties are never required), required ones first in their `required` order, then the
/// others by name (a decoded JSON object does not keep its key order); an object schema that
/// lists no properties and allows extra ones takes any members.
public indirect enum JSONSchema: Sendable, Hashable, Codable {
    /// Any JSON value (`{}`, or `json_object` mode's members).
    case any
    /// `freeForm`: no properties listed and extra ones allowed, so any members (a `{"type":
    /// "object"}` or `json_object` mode).
    case object(properties: [Property], required: Set<String>, freeForm: Bool)
    case array(items: JSONSchema, minItems: Int, maxItems: Int?)
    case string(minLength: Int, maxLength: Int?)
    case number(integer: Bool)
    case boolean
    case null
    /// One of these values, each as compact JSON text.
    case oneOf([String])
    /// One of several types (`"type": ["string", "null"]`).
    case union([JSONSchema])

    public struct Property: Sendable, Hashable, Codable {
        public var name: String
        public var schema: JSONSchema
    }

    /// `json_object` mode: any JSON object.
    public static let anyObject = JSONSchema.object(properties: [], required: [], freeForm: true)

    /// A schema that cannot be enforced.
    public enum SchemaError: Error, Equatable, CustomStringConvertible {
        case unsupported(keyword: String, path: String)
        case invalid(String, path: String)

        public var description: String {
            switch self {
            case .unsupported(let keyword, let path): "unsupported JSON schema keyword '\(keyword)' at \(path)"
            case .invalid(let detail, let path): "invalid JSON schema at \(path): \(detail)"
            }
        }
    }

    static let annotations: Set<String> = ["title", "description", "$schema", "default", "examples", "$comment"]

    /// Bounds on what one request may ask the grammar to track (each sampled token is checked
    /// against it inside the decode round every running sequence shares).
    public static let maxNodes = 1024, maxDepth = 16, maxEnumValues = 256, maxEnumBytes = 16384

    /// Throws unless the schema is within ``maxNodes``, ``maxDepth`` and the enum bounds.
    public func checkSize() throws(SchemaError) {
        var nodes = 0
        func visit(_ schema: JSONSchema, depth: Int) throws(SchemaError) {
            nodes += 1
            guard nodes <= Self.maxNodes else { throw .invalid("more than \(Self.maxNodes) subschemas", path: "$") }
            guard depth <= Self.maxDepth else { throw .invalid("nested deeper than \(Self.maxDepth)", path: "$") }
            switch schema {
            case .object(let properties, _, _):
                for property in properties { try visit(property.schema, depth: depth + 1) }
            case .array(let items, _, _): try visit(items, depth: depth + 1)
            case .union(let members): for member in members { try visit(member, depth: depth + 1) }
            case .oneOf(let values):
                guard values.count <= Self.maxEnumValues, values.reduce(0, { $0 + $1.utf8.count }) <= Self.maxEnumBytes
                else {
                    throw .invalid(
                        "an enum holds at most \(Self.maxEnumValues) values and \(Self.maxEnumBytes) bytes", path: "$")
                }
            default: break
            }
        }
        try visit(self, depth: 0)
    }

    /// Parses a schema from its JSON document.
    public init(json: JSONValue, path: String = "$") throws(SchemaError) {
        guard case .object(let object) = json else {
            if case .bool(true) = json {
                self = .any
                return
            }
            throw .invalid("a schema is an object", path: path)
        }
        let known: Set<String> = [
            "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const",
            "minLength", "maxLength",
        ]
        if let keyword = object.keys.sorted().first(where: { !known.contains($0) && !Self.annotations.contains($0) }) {
            throw .unsupported(keyword: keyword, path: path)
        }
        if let constant = object["const"] {
            self = .oneOf([constant.compactText])
            return
        }
        if let values = object["enum"] {
            guard case .array(let list) = values, !list.isEmpty else {
                throw .invalid("enum is a non-empty array", path: path)
            }
            self = .oneOf(list.map(\.compactText))
            return
        }
        let types: [String]
        switch object["type"] {
        case nil: types = []
        case .string(let name)?: types = [name]
        case .array(let names)? where !names.isEmpty:
            types = try names.map { name throws(SchemaError) in
                guard case .string(let text) = name else { throw .invalid("type names are strings", path: path) }
                return text
            }
        default: throw .invalid("type is a string or a non-empty array of strings", path: path)
        }
        guard !types.isEmpty else {
            // No type: an object if it lists properties, else anything.
            self = object["properties"] != nil ? try Self.parse(type: "object", object, path: path) : .any
            return
        }
        let schemas = try types.map { name throws(SchemaError) in try Self.parse(type: name, object, path: path) }
        self = schemas.count == 1 ? schemas[0] : .union(schemas)
    }

    private static func parse(
        type: String, _ object: [String: JSONValue], path: String
    ) throws(SchemaError)
        -> JSONSchema
    {
        func count(_ key: String) throws(SchemaError) -> Int? {
            guard let value = object[key] else { return nil }
            guard case .integer(let number) = value, number >= 0 else {
                throw .invalid("\(key) is a non-negative integer", path: path)
            }
            return number
        }
        switch type {
        case "object":
            var additional = true
            switch object["additionalProperties"] {
            case nil: break
            case .bool(let flag)?: additional = flag
            default: throw .unsupported(keyword: "additionalProperties (a schema)", path: path)
            }
            var properties: [String: JSONValue] = [:]
            switch object["properties"] {
            case nil: break
            case .object(let members)?: properties = members
            default: throw .invalid("properties is an object", path: path)
            }
            var required: [String] = []
            switch object["required"] {
            case nil: break
            case .array(let names)?:
                required = try names.map { name throws(SchemaError) in
                    guard case .string(let text) = name else {
                        throw .invalid("required is an array of strings", path: path)
                    }
                    return text
                }
            default: throw .invalid("required is an array of strings", path: path)
            }
            if let missing = required.first(where: { properties[$0] == nil }) {
                throw .invalid("required property '\(missing)' is not in properties", path: path)
            }
            // Required properties first, in their listed order, then the others by name (a
            // decoded JSON object does not keep its key order).
            var seen = Set<String>()
            let names = (required + properties.keys.sorted()).filter { seen.insert($0).inserted }
            let parsed = try names.map { name throws(SchemaError) in
                Property(name: name, schema: try JSONSchema(json: properties[name]!, path: "\(path).\(name)"))
            }
            return .object(properties: parsed, required: Set(required), freeForm: parsed.isEmpty && additional)
        case "array":
            let items = try object["items"].map { value throws(SchemaError) in
                try JSONSchema(json: value, path: "\(path)[]")
            }
            let minItems = try count("minItems") ?? 0, maxItems = try count("maxItems")
            if let maxItems, maxItems < minItems { throw .invalid("maxItems < minItems", path: path) }
            return .array(items: items ?? .any, minItems: minItems, maxItems: maxItems)
        case "string":
            let minLength = try count("minLength") ?? 0, maxLength = try count("maxLength")
            if let maxLength, maxLength < minLength { throw .invalid("maxLength < minLength", path: path) }
            return .string(minLength: minLength, maxLength: maxLength)
        case "number": return .number(integer: false)
        case "integer": return .number(integer: true)
        case "boolean": return .boolean
        case "null": return .null
        default: throw .invalid("unknown type '\(type)'", path: path)
        }
    }
}
