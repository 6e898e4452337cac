import Foundation

/// Builds a safetensors file in memory: for tests and fixtures.
///
/// Tensors are stored in insertion order, back to back; the JSON header has sorted keys and
/// is padded with spaces to a multiple of 8 bytes, as the reference implementation does.
public struct SafetensorsWriter: Sendable {
    private var tensors: [(name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8])] = []
    /// The `__metadata__` entries; none is written when empty.
    public var metadata: [String: String] = [:]

    public init() {}

    /// Adds a tensor from its stored bytes. Throws `corrupt` (path `SafetensorsWriter`) for a
    /// repeated name, a negative extent, or a byte count that disagrees with a known dtype.
    public mutating func addTensor(
        _ name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]
    ) throws(ModelFormatError) {
        guard name != "__metadata__", !tensors.contains(where: { $0.name == name }) else {
            throw Self.error("duplicate or reserved tensor name '\(name)'")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw Self.error("tensor '\(name)': negative extent in \(shape)") }
        if let bits = dtype.bitWidth {
            var totalBits = bits, overflow = false
            for extent in shape where !overflow {
                (totalBits, overflow) = totalBits.multipliedReportingOverflow(by: extent)
            }
            guard !overflow, totalBits == bytes.count * 8 else {
                throw Self.error("tensor '\(name)': \(dtype) \(shape) does not match \(bytes.count) bytes")
            }
        }
        tensors.append((name, dtype, shape, bytes))
    }

    /// Adds a tensor from float values (row-major) stored as F32, F16 or BF16 (the last two
    /// rounded to nearest even). Other dtypes throw `unsupported`.
    public mutating func addTensor(
        _ name: String, shape: [Int], floats: [Float], as dtype: SafetensorsDType = .f32
    ) throws(ModelFormatError) {
        guard let storage = dtype.floatStorage else {
            throw .unsupported(path: "SafetensorsWriter", detail: "cannot encode floats as \(dtype)")
        }
        try addTensor(name, dtype: dtype, shape: shape, bytes: storage.encode(floats))
    }

    /// The complete file.
    public func serialized() -> [UInt8] {
        var header: [String: Any] = [:], offset = 0
        for tensor in tensors {
            header[tensor.name] = [
                "dtype": tensor.dtype.rawValue, "shape": tensor.shape,
                "data_offsets": [offset, offset + tensor.bytes.count],
            ]
            offset += tensor.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = Array(
            (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes]))
                ?? Data("{}".utf8))
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var out: [UInt8] = []
        FloatStorage.append(UInt64(json.count), to: &out)
        out += json
        for tensor in tensors { out += tensor.bytes }
        return out
    }

    private static func error(_ detail: String) -> ModelFormatError {
        .corrupt(path: "SafetensorsWriter", detail: detail)
    }
}
