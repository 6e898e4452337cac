/// Typed access to GGUF metadata. The plain accessors return nil when a key is absent or holds
/// another type; the `require…` forms throw `ModelFormatError.missing` naming the key, for
/// values a model cannot do without.
extension GGUFFile {
    /// The string at `key`.
    public func string(_ key: String) -> String? { metadata[key]?.stringValue }

    /// The integer at `key`, whatever its stored width.
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }

    /// The float at `key` (float32 or float64; an integer value is converted).
    public func float(_ key: String) -> Float? { metadata[key]?.floatValue }

    /// The bool at `key`.
    public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }

    /// The string array at `key`.
    public func strings(_ key: String) -> [String]? { metadata[key]?.arrayValue?.strings }

    /// The integer array at `key`, whatever its element width.
    public func ints(_ key: String) -> [Int]? { metadata[key]?.arrayValue?.ints }

    /// The float array at `key` (float32 or float64 elements).
    public func floats(_ key: String) -> [Float]? { metadata[key]?.arrayValue?.floats }

    /// The integer at `key`; throws `missing` if absent or not an integer.
    public func requireInt(_ key: String) throws(ModelFormatError) -> Int {
        guard let value = int(key) else { throw missing(key, "an integer") }
        return value
    }

    /// The float at `key`; throws `missing` if absent or not a number.
    public func requireFloat(_ key: String) throws(ModelFormatError) -> Float {
        guard let value = float(key) else { throw missing(key, "a number") }
        return value
    }

    /// The string at `key`; throws `missing` if absent or not a string.
    public func requireString(_ key: String) throws(ModelFormatError) -> String {
        guard let value = string(key) else { throw missing(key, "a string") }
        return value
    }

    private func missing(_ key: String, _ expected: String) -> ModelFormatError {
        if let value = metadata[key] {
            return .missing(path: path, detail: "metadata key '\(key)' is a \(value.type), expected \(expected)")
        }
        return .missing(path: path, detail: "metadata key '\(key)' is missing")
    }
}
