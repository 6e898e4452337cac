/// Output that must parse as JSON: any JSON object, or a value of a schema. Generation then
/// samples only tokens the ``JSONGrammar`` accepts and stops when the value is complete.
public enum ResponseFormat: Sendable, Hashable, Codable {
    case jsonObject
    case jsonSchema(JSONSchema)

    /// The schema generation follows.
    public var schema: JSONSchema {
        switch self {
        case .jsonObject: .anyObject
        case .jsonSchema(let schema): schema
        }
    }
}
