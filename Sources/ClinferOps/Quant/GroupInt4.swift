/// Clinfer's group-wise asymmetric int4 (AWQ style): per group an fp16 scale s and a zero point
/// z in 0...15, value = (q − z)·s.
///
/// The range of each group is widened to include 0 (so zero is exact and a constant group is
/// representable); s = (max − min) / 15 rounded to fp16, z = round(−min / s), q = clamp(round(x / s)
/// + z, 0, 15). Nibbles: in each run of 32 elements byte j holds element j (low nibble) and
/// element j+16 (high nibble), the GGUF order, so one kernel reads GGUF Q4 and int4 alike.
enum GroupInt4 {
    static func encode(
        _ x: UnsafeBufferPointer<Float>, into out: inout [UInt8], scales: inout [Float16], zeros: inout [UInt8]
    ) {
        let low = min(0, x.min()!), high = max(0, x.max()!)
        var scale = Float(Float16((high - low) / 15))
        if !scale.isFinite { scale = Float(Float16.greatestFiniteMagnitude) }
        if scale == 0 { scale = high - low == 0 ? 1 : Float(Float16.leastNormalMagnitude) }
        let zero = Int(max(0, min(15, (-low / scale).rounded())))
        scales.append(Float16(scale))
        zeros.append(UInt8(zero))
        func q(_ value: Float) -> Int { max(0, min(15, Int((value / scale).rounded()) + zero)) }
        for run in stride(from: 0, to: x.count, by: 32) {
            for j in 0..<16 { out.append(UInt8(q(x[run + j]) | q(x[run + j + 16]) << 4)) }
        }
    }

    static func decode(
        _ nibbles: UnsafeRawBufferPointer, scales: [Float16], zeros: [UInt8], groupSize: Int,
        into y: UnsafeMutableBufferPointer<Float>
    ) {
        for run in 0..<(y.count / 32) {
            for j in 0..<16 {
                let byte = nibbles[run * 16 + j]
                for (element, q) in [(run * 32 + j, Int(byte & 0xF)), (run * 32 + j + 16, Int(byte >> 4))] {
                    let group = element / groupSize
                    y[element] = Float(q - Int(zeros[group])) * Float(scales[group])
                }
            }
        }
    }
}
