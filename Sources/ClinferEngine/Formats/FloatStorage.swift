/// The floating-point element encodings that GGUF and safetensors share: fp32, fp16 and
/// bfloat16, little-endian. Decodes stored bytes to `Float` and encodes `Float` for the writers.
enum FloatStorage: Sendable {
    case f32, f16, bf16

    /// Bytes per element.
    var size: Int { self == .f32 ? 4 : 2 }

    /// Decodes `raw` (whose length is a multiple of ``size``) into floats. Handles any
    /// alignment of `raw`: safetensors data has no alignment guarantee.
    func decode(_ raw: UnsafeRawBufferPointer) -> [Float] {
        let count = raw.count / size
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch self {
            case .f32:
                #if _endian(little)
                    if let source = raw.baseAddress, let destination = out.baseAddress {
                        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
                    }
                #else
                    for i in 0..<count {
                        out[i] = Float(
                            bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    }
                #endif
            case .f16:
                for i in 0..<count {
                    out[i] = Float(
                        Float16(
                            bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    )
                }
            case .bf16:
                for i in 0..<count {
                    out[i] = Float(
                        bitPattern: UInt32(
                            UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                }
            }
            initialized = count
        }
    }

    /// Encodes `values` little-endian; fp16 and bfloat16 round to nearest even.
    func encode(_ values: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * size)
        for value in values {
            switch self {
            case .f32: Self.append(value.bitPattern, to: &out)
            case .f16: Self.append(Float16(value).bitPattern, to: &out)
            case .bf16: Self.append(Self.bfloat16Bits(value), to: &out)
            }
        }
        return out
    }

    /// The bfloat16 nearest to `value` (ties to even); NaN stays a quiet NaN.
    static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
        return UInt16((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16)
    }

    static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
}
