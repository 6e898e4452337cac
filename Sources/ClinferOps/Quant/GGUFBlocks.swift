/// Encoding and decoding of one block of 32 values in the GGUF formats, following llama.cpp's
/// reference quantizers (`quantize_row_q8_0_ref`, `…_q4_0_ref`, `…_q4_1_ref`) bit for bit.
enum GGUFBlocks {
    static let size = 32

    /// Appends the encoded block of `x` (32 values) to `out`.
    static func encode(_ x: UnsafeBufferPointer<Float>, format: QuantFormat, into out: inout [UInt8]) {
        switch format {
        case .q8_0:
            let amax = x.reduce(Float(0)) { max($0, abs($1)) }
            let d = amax / 127
            let inverse: Float = d != 0 ? 1 / d : 0
            appendHalf(d, to: &out)
            for value in x { out.append(UInt8(bitPattern: Int8((value * inverse).rounded()))) }
        case .q4_0:
            var amax: Float = 0, extreme: Float = 0
            for value in x where amax < abs(value) {
                amax = abs(value)
                extreme = value
            }
            let d = extreme / -8
            let inverse: Float = d != 0 ? 1 / d : 0
            appendHalf(d, to: &out)
            for j in 0..<16 {
                let low = min(15, Int(x[j] * inverse + 8.5)), high = min(15, Int(x[j + 16] * inverse + 8.5))
                out.append(UInt8(low | high << 4))
            }
        case .q4_1:
            let low = x.min()!, high = x.max()!
            let d = (high - low) / 15
            let inverse: Float = d != 0 ? 1 / d : 0
            appendHalf(d, to: &out)
            appendHalf(low, to: &out)
            for j in 0..<16 {
                let q0 = min(15, Int((x[j] - low) * inverse + 0.5)),
                    q1 = min(15, Int((x[j + 16] - low) * inverse + 0.5))
                out.append(UInt8(q0 | q1 << 4))
            }
        case .int4:
            preconditionFailure("int4 is not a GGUF block format")
        }
    }

    /// Decodes the block at `bytes` into 32 values at `y`.
    static func decode(_ bytes: UnsafeRawBufferPointer, format: QuantFormat, into y: UnsafeMutablePointer<Float>) {
        let d = Float(half(bytes, at: 0))
        switch format {
        case .q8_0:
            for j in 0..<32 { y[j] = Float(Int8(bitPattern: bytes[2 + j])) * d }
        case .q4_0:
            for j in 0..<16 {
                y[j] = Float(Int(bytes[2 + j] & 0xF) - 8) * d
                y[j + 16] = Float(Int(bytes[2 + j] >> 4) - 8) * d
            }
        case .q4_1:
            let m = Float(half(bytes, at: 2))
            for j in 0..<16 {
                y[j] = Float(bytes[4 + j] & 0xF) * d + m
                y[j + 16] = Float(bytes[4 + j] >> 4) * d + m
            }
        case .int4:
            preconditionFailure("int4 is not a GGUF block format")
        }
    }

    /// The device view of a block: its quants (32 int8, or 16 bytes of nibbles) and fp32 d, m
    /// such that value = q·d + m (Q4_0: m = −8d, exact since 8d is a power-of-two multiple).
    static func split(
        _ bytes: UnsafeRawBufferPointer, format: QuantFormat
    ) -> (quants: ArraySlice<UInt8>, d: Float, m: Float) {
        let d = Float(half(bytes, at: 0))
        switch format {
        case .q8_0: return (Array(bytes)[2..<34], d, 0)
        case .q4_0: return (Array(bytes)[2..<18], d, -8 * d)
        case .q4_1: return (Array(bytes)[4..<20], d, Float(half(bytes, at: 2)))
        case .int4: preconditionFailure("int4 is not a GGUF block format")
        }
    }

    static func appendHalf(_ value: Float, to out: inout [UInt8]) {
        let bits = Float16(value).bitPattern
        out.append(UInt8(bits & 0xFF))
        out.append(UInt8(bits >> 8))
    }

    static func half(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Float16 {
        Float16(bitPattern: UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8)
    }
}
