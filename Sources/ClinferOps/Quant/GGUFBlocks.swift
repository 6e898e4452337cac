/// One GGUF block at a time: encoding (Q8_0, Q4_0, Q4_1, following llama.cpp's reference
/// quantizers `quantize_row_*_ref` bit for bit), decoding of every GGUF format bit-exactly as
/// llama.cpp's `dequantize_row_*`, and the device view the kernels read (``unpack``).
enum GGUFBlocks {
    /// Appends the encoded block of `x` (32 values) to `out` (Q8_0, Q4_0, Q4_1).
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
        default:
            preconditionFailure("no encoder for \(format)")
        }
    }

    /// Whether ``encode(_:format:into:)`` can write `format`.
    static func canEncode(_ format: QuantFormat) -> Bool { [.q8_0, .q4_0, .q4_1].contains(format) }

    /// Decodes the block at `b` into its values at `y` (32, or 256 for K-quants), with
    /// llama.cpp's arithmetic, operation for operation.
    static func decode(_ b: UnsafeRawBufferPointer, format: QuantFormat, into y: UnsafeMutablePointer<Float>) {
        switch format {
        case .q8_0:
            let d = half(b, 0)
            for j in 0..<32 { y[j] = Float(Int8(bitPattern: b[2 + j])) * d }
        case .q4_0:
            let d = half(b, 0)
            for j in 0..<16 {
                y[j] = Float(Int(b[2 + j] & 0xF) - 8) * d
                y[j + 16] = Float(Int(b[2 + j] >> 4) - 8) * d
            }
        case .q4_1:
            let d = half(b, 0), m = half(b, 2)
            for j in 0..<16 {
                y[j] = Float(b[4 + j] & 0xF) * d + m
                y[j + 16] = Float(b[4 + j] >> 4) * d + m
            }
        case .q5_0:
            let d = half(b, 0), high = word(b, 2)
            for j in 0..<32 { y[j] = Float(fiveBit(b, quants: 6, high: high, j) - 16) * d }
        case .q5_1:
            let d = half(b, 0), m = half(b, 2), high = word(b, 4)
            for j in 0..<32 { y[j] = Float(fiveBit(b, quants: 8, high: high, j)) * d + m }
        case .q4_K, .q5_K:
            let d = half(b, 0), dmin = half(b, 2)
            for group in 0..<8 {
                let (scale, mn) = scaleMin(b, group)
                let d1 = d * Float(scale), m1 = dmin * Float(mn)
                for l in 0..<32 { y[group * 32 + l] = d1 * Float(kQuant(b, format: format, group: group, l)) - m1 }
            }
        case .q6_K:
            let d = half(b, 208)
            for e in 0..<256 { y[e] = d * Float(Int8(bitPattern: b[192 + e / 16])) * Float(sixBit(b, e)) }
        case .int4:
            preconditionFailure("int4 is not a GGUF block format")
        }
    }

    /// The device view of the block at `b`: its integer quants at `q` (32 or 256) and per group of
    /// `format.groupSize` an fp32 scale d and offset m such that value = q·d + m (exactly the
    /// decoded value up to one rounding; Q4_0: m = −8d).
    static func unpack(
        _ b: UnsafeRawBufferPointer, format: QuantFormat, q: UnsafeMutablePointer<Int32>,
        d: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>
    ) {
        switch format {
        case .q8_0:
            for j in 0..<32 { q[j] = Int32(Int8(bitPattern: b[2 + j])) }
            (d[0], m[0]) = (half(b, 0), 0)
        case .q4_0, .q4_1:
            let quants = format == .q4_0 ? 2 : 4
            for j in 0..<16 { (q[j], q[j + 16]) = (Int32(b[quants + j] & 0xF), Int32(b[quants + j] >> 4)) }
            d[0] = half(b, 0)
            m[0] = format == .q4_0 ? -8 * d[0] : half(b, 2)
        case .q5_0:
            let high = word(b, 2)
            for j in 0..<32 { q[j] = Int32(fiveBit(b, quants: 6, high: high, j) - 16) }
            (d[0], m[0]) = (half(b, 0), 0)
        case .q5_1:
            let high = word(b, 4)
            for j in 0..<32 { q[j] = Int32(fiveBit(b, quants: 8, high: high, j)) }
            (d[0], m[0]) = (half(b, 0), half(b, 2))
        case .q4_K, .q5_K:
            let scale = half(b, 0), dmin = half(b, 2)
            for group in 0..<8 {
                let (sc, mn) = scaleMin(b, group)
                (d[group], m[group]) = (scale * Float(sc), -(dmin * Float(mn)))
                for l in 0..<32 { q[group * 32 + l] = Int32(kQuant(b, format: format, group: group, l)) }
            }
        case .q6_K:
            let scale = half(b, 208)
            for group in 0..<16 { (d[group], m[group]) = (scale * Float(Int8(bitPattern: b[192 + group])), 0) }
            for e in 0..<256 { q[e] = Int32(sixBit(b, e)) }
        case .int4:
            preconditionFailure("int4 is not a GGUF block format")
        }
    }

    /// Q5_0/Q5_1 element j: its nibble (byte j mod 16 of the quants, high nibble for j ≥ 16) and
    /// bit j of the 32-bit `high` word as the fifth bit.
    private static func fiveBit(_ b: UnsafeRawBufferPointer, quants: Int, high: UInt32, _ j: Int) -> Int {
        let byte = b[quants + j % 16]
        let nibble = j < 16 ? byte & 0xF : byte >> 4
        return Int(nibble) | Int((high >> UInt32(j)) & 1) << 4
    }

    /// Q4_K/Q5_K sub-block `j`'s 6-bit scale and min from the 12 packed bytes at offset 4
    /// (llama.cpp's `get_scale_min_k4`).
    private static func scaleMin(_ b: UnsafeRawBufferPointer, _ j: Int) -> (UInt8, UInt8) {
        let s = { b[4 + $0] }
        if j < 4 { return (s(j) & 63, s(j + 4) & 63) }
        return ((s(j + 4) & 0xF) | (s(j - 4) >> 6) << 4, (s(j + 4) >> 4) | (s(j) >> 6) << 4)
    }

    /// Q4_K/Q5_K element l of sub-block `group`: sub-blocks 2i and 2i + 1 share 32 quant bytes
    /// (low and high nibbles); Q5_K's fifth bit is bit `group` of byte l of its 32 high-bit bytes.
    private static func kQuant(_ b: UnsafeRawBufferPointer, format: QuantFormat, group: Int, _ l: Int) -> Int {
        let quants = format == .q4_K ? 16 : 48
        let byte = b[quants + group / 2 * 32 + l]
        let nibble = Int(group % 2 == 0 ? byte & 0xF : byte >> 4)
        guard format == .q5_K else { return nibble }
        return nibble + (Int(b[16 + l] >> UInt8(group)) & 1) * 16
    }

    /// Q6_K element e (0..<256) minus 32: four low bits from `ql` (128 bytes), two high bits
    /// from `qh` (64 bytes at 128), in llama.cpp's interleave of four 32-runs per 128 values.
    private static func sixBit(_ b: UnsafeRawBufferPointer, _ e: Int) -> Int {
        let half = e / 128, run = e % 128 / 32, l = e % 32
        let low = b[half * 64 + l + (run % 2) * 32]
        let nibble = run < 2 ? low & 0xF : low >> 4
        let top = (b[128 + half * 32 + l] >> UInt8(2 * run)) & 3
        return Int(nibble | top << 4) - 32
    }

    static func appendHalf(_ value: Float, to out: inout [UInt8]) {
        let bits = Float16(value).bitPattern
        out.append(UInt8(bits & 0xFF))
        out.append(UInt8(bits >> 8))
    }

    /// The fp16 at `offset`, widened.
    static func half(_ b: UnsafeRawBufferPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(b[offset]) | UInt16(b[offset + 1]) << 8))
    }

    private static func word(_ b: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[offset + $1]) << UInt32(8 * $1) }
    }
}
