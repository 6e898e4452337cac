import ClinferOps

/// Builds a GGUF v3 file in memory from metadata and tensors: for tests, fixtures and
/// conversion tooling.
///
/// Metadata keeps insertion order and the exact value types given. Tensors are laid out in
/// insertion order, each at a multiple of ``alignment`` with zero padding, as llama.cpp writes
/// them. The writer adds `general.alignment` when the alignment is not the default 32, unless
/// the key was set explicitly (tests use that to produce files whose key and layout disagree).
public struct GGUFWriter: Sendable {
    /// The alignment the writer pads the data section and every tensor to (a power of two).
    public let alignment: Int
    private var keys: [String] = []
    private var values: [String: GGUFValue] = [:]
    private var tensors: [PendingTensor] = []

    private struct PendingTensor: Sendable {
        let name: String
        let type: GGUFTensorType
        let dimensions: [Int]
        let bytes: [UInt8]
    }

    /// A writer padding to `alignment`, which must be a power of two.
    public init(alignment: Int = 32) {
        precondition(
            alignment > 0 && alignment & (alignment - 1) == 0, "GGUF alignment must be a power of two, got \(alignment)"
        )
        self.alignment = alignment
    }

    /// Sets metadata `key` to `value`; a key set again keeps its first position.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
    }

    /// Adds a tensor from its stored bytes, of any ggml type. `dimensions` are in GGUF order
    /// (ne0 first). Throws `corrupt` (path `GGUFWriter`) for a repeated name, 0 or more than 4
    /// dimensions, or a byte count that does not match the type and dimensions.
    public mutating func addTensor(
        _ name: String, type: GGUFTensorType, dimensions: [Int], bytes: [UInt8]
    ) throws(ModelFormatError) {
        guard !tensors.contains(where: { $0.name == name }) else { throw Self.error("duplicate tensor name '\(name)'") }
        guard (1...4).contains(dimensions.count) else {
            throw Self.error("tensor '\(name)' needs 1 to 4 dimensions, got \(dimensions.count)")
        }
        guard let expected = type.byteCount(dimensions: dimensions) else {
            throw Self.error("tensor '\(name)': \(type.name) cannot have dimensions \(dimensions)")
        }
        guard bytes.count == expected else {
            throw Self.error("tensor '\(name)': \(type.name) \(dimensions) needs \(expected) bytes, got \(bytes.count)")
        }
        tensors.append(PendingTensor(name: name, type: type, dimensions: dimensions, bytes: bytes))
    }

    /// Adds a tensor from float values (ne0 fastest), stored as F32, F16, BF16 (rounded to
    /// nearest even) or quantized to Q8_0, Q4_0 or Q4_1 with llama.cpp's reference quantizers.
    /// Other types throw `unsupported`; mismatched counts and non-finite values for quantized
    /// types throw `corrupt`.
    public mutating func addTensor(
        _ name: String, dimensions: [Int], floats: [Float], as type: GGUFTensorType
    ) throws(ModelFormatError) {
        let count = dimensions.reduce(1) { $0.multipliedReportingOverflow(by: max($1, 0)).partialValue }
        guard floats.count == count, let first = dimensions.first else {
            throw Self.error("tensor '\(name)': \(floats.count) values for dimensions \(dimensions)")
        }
        let bytes: [UInt8]
        switch type {
        case .f32: bytes = FloatStorage.f32.encode(floats)
        case .f16: bytes = FloatStorage.f16.encode(floats)
        case .bf16: bytes = FloatStorage.bf16.encode(floats)
        case .q8_0, .q4_0, .q4_1:
            guard let format = type.quantFormat, first > 0 else {
                throw Self.error("tensor '\(name)': bad dimensions \(dimensions)")
            }
            do {
                bytes = try QuantizedMatrix(quantizing: floats, rows: count / first, columns: first, format: format)
                    .data
            } catch {
                throw Self.error("tensor '\(name)': \(error)")
            }
        default:
            throw .unsupported(path: "GGUFWriter", detail: "cannot encode floats as \(type.name)")
        }
        try addTensor(name, type: type, dimensions: dimensions, bytes: bytes)
    }

    /// The complete file.
    public func serialized() -> [UInt8] {
        var keys = self.keys, values = self.values
        if alignment != GGUFHeader.defaultAlignment, values["general.alignment"] == nil {
            keys.append("general.alignment")
            values["general.alignment"] = .uint32(UInt32(clamping: alignment))
        }
        var out: [UInt8] = []
        append(GGUFHeader.magic, to: &out)
        append(UInt32(3), to: &out)
        append(UInt64(tensors.count), to: &out)
        append(UInt64(keys.count), to: &out)
        for key in keys {
            guard let value = values[key] else { continue }
            appendString(key, to: &out)
            append(value.type.rawValue, to: &out)
            appendValue(value, to: &out)
        }
        var offset = 0
        for tensor in tensors {
            appendString(tensor.name, to: &out)
            append(UInt32(tensor.dimensions.count), to: &out)
            for dimension in tensor.dimensions { append(UInt64(dimension), to: &out) }
            append(tensor.type.rawValue, to: &out)
            append(UInt64(offset), to: &out)
            offset = padded(offset + tensor.bytes.count)
        }
        out.append(contentsOf: repeatElement(0, count: padded(out.count) - out.count))
        for tensor in tensors {
            out.append(contentsOf: tensor.bytes)
            out.append(contentsOf: repeatElement(0, count: padded(tensor.bytes.count) - tensor.bytes.count))
        }
        return out
    }

    private func padded(_ value: Int) -> Int { (value + alignment - 1) / alignment * alignment }

    private static func error(_ detail: String) -> ModelFormatError { .corrupt(path: "GGUFWriter", detail: detail) }

    private func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        FloatStorage.append(value, to: &out)
    }

    private func appendString(_ text: String, to out: inout [UInt8]) {
        append(UInt64(text.utf8.count), to: &out)
        out.append(contentsOf: text.utf8)
    }

    private func appendValue(_ value: GGUFValue, to out: inout [UInt8]) {
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .bool(let v): append(UInt8(v ? 1 : 0), to: &out)
        case .string(let v): appendString(v, to: &out)
        case .array(let v): appendArray(v, to: &out)
        }
    }

    private func appendArray(_ array: GGUFArray, to out: inout [UInt8]) {
        append(array.elementType.rawValue, to: &out)
        append(UInt64(array.count), to: &out)
        switch array {
        case .uint8(let v): out.append(contentsOf: v)
        case .int8(let v): v.forEach { append($0, to: &out) }
        case .uint16(let v): v.forEach { append($0, to: &out) }
        case .int16(let v): v.forEach { append($0, to: &out) }
        case .uint32(let v): v.forEach { append($0, to: &out) }
        case .int32(let v): v.forEach { append($0, to: &out) }
        case .uint64(let v): v.forEach { append($0, to: &out) }
        case .int64(let v): v.forEach { append($0, to: &out) }
        case .float32(let v): v.forEach { append($0.bitPattern, to: &out) }
        case .float64(let v): v.forEach { append($0.bitPattern, to: &out) }
        case .bool(let v): v.forEach { append(UInt8($0 ? 1 : 0), to: &out) }
        case .string(let v): v.forEach { appendString($0, to: &out) }
        case .array(let v): v.forEach { appendArray($0, to: &out) }
        }
    }
}
