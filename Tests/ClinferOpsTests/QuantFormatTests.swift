import ClinferOps
import Testing

@Suite("Quantized block formats: bit-exact GGUF layout and round-trip bounds")
struct QuantFormatTests {
    static func bytes(_ values: [Float], _ format: QuantFormat) throws -> [UInt8] {
        try QuantizedMatrix(quantizing: values, rows: 1, columns: values.count, format: format).data
    }

    @Test("Q8_0: fp16 scale then 32 int8, value = q·d")
    func q8Block() throws {
        // amax 127 gives d = 1 (fp16 0x3C00) and q = x.
        let x = (0..<31).map { Float($0 * 4 - 1) } + [127]
        let expected: [UInt8] = [0x00, 0x3C] + x.map { UInt8(bitPattern: Int8($0)) }
        #expect(try Self.bytes(x, .q8_0) == expected)
        #expect(try QuantizedMatrix(ggufBytes: expected, format: .q8_0, rows: 1, columns: 32).dequantized() == x)
    }

    @Test("Q4_0: d = max/−8, q = min(15, x/d + 8.5), byte j = q[j] | q[j+16] << 4")
    func q40Block() throws {
        // The largest magnitude is −8, so d = 1 (fp16 0x3C00) and q[j] = min(15, (j + 1) / 2):
        // x = 7.5 clips to 7, one step short, as in llama.cpp.
        let x = (0..<32).map { Float($0) / 2 - 8 }
        let q = (0..<32).map { min(15, ($0 + 1) / 2) }
        let expected: [UInt8] = [0x00, 0x3C] + (0..<16).map { UInt8(q[$0] | q[$0 + 16] << 4) }
        #expect(try Self.bytes(x, .q4_0) == expected)
        let decoded = try QuantizedMatrix(ggufBytes: expected, format: .q4_0, rows: 1, columns: 32).dequantized()
        #expect(decoded == q.map { Float($0 - 8) })
    }

    @Test("Q4_1: fp16 d and min, q = x − min, nibbles in GGUF order")
    func q41Block() throws {
        // min 2, max 17: d = 1 (0x3C00), m = 2 (0x4000), q[j] = j mod 16.
        let x = (0..<32).map { Float($0 % 16) + 2 }
        let expected: [UInt8] = [0x00, 0x3C, 0x00, 0x40] + (0..<16).map { UInt8($0 | $0 << 4) }
        #expect(try Self.bytes(x, .q4_1) == expected)
        #expect(try QuantizedMatrix(ggufBytes: expected, format: .q4_1, rows: 1, columns: 32).dequantized() == x)
    }

    /// Values in [−1, 1]: the bound is half a quantization step plus fp16 scale rounding; Q4_0
    /// can clip the side opposite its largest magnitude by one whole step (d = amax / 8).
    static let roundTripBounds: [(QuantFormat, Float)] = [
        (.q8_0, 1.0 / 254 + 2e-3), (.q4_0, 1.0 / 8 + 2e-3), (.q4_1, 1.0 / 15 + 2e-3),
        (.int4(groupSize: 32), 1.0 / 15 + 2e-3), (.int4(groupSize: 64), 1.0 / 15 + 2e-3),
        (.int4(groupSize: 128), 1.0 / 15 + 2e-3),
    ]

    @Test("round trip stays within the format's error bound", arguments: roundTripBounds)
    func roundTrip(format: QuantFormat, bound: Float) throws {
        let values = SplitMix64.floats(16 * 256, seed: 11)
        let matrix = try QuantizedMatrix(quantizing: values, rows: 16, columns: 256, format: format)
        let restored = matrix.dequantized()
        let worst = zip(values, restored).map { abs($0 - $1) }.max()!
        #expect(worst <= bound, "\(format): max error \(worst)")
        #expect(worst > 0, "quantization cannot be lossless on random data")
        let constant = try QuantizedMatrix(
            quantizing: [Float](repeating: 0.75, count: 128), rows: 1, columns: 128, format: format)
        #expect(constant.dequantized().allSatisfy { abs($0 - 0.75) <= bound }, "\(format): a constant group")
        #expect(
            matrix.data.count + matrix.groupScales.count * 2 + matrix.groupZeros.count
                == format.storageBytes(rows: 16, columns: 256))
    }

    @Test("bad input: K not a multiple of the block, wrong byte count, bad group, NaN")
    func badInput() throws {
        #expect(throws: OpError.self) {
            try QuantizedMatrix(quantizing: [Float](repeating: 1, count: 40), rows: 1, columns: 40, format: .q8_0)
        }
        #expect(throws: OpError.self) {
            try QuantizedMatrix(ggufBytes: [UInt8](repeating: 0, count: 33), format: .q8_0, rows: 1, columns: 32)
        }
        #expect(throws: OpError.self) {
            try QuantizedMatrix(
                ggufBytes: [UInt8](repeating: 0, count: 18), format: .int4(groupSize: 32), rows: 1, columns: 32)
        }
        #expect(throws: OpError.self) {
            try QuantizedMatrix(
                quantizing: [Float](repeating: 1, count: 96), rows: 1, columns: 96, format: .int4(groupSize: 48))
        }
        #expect(throws: OpError.self) {
            try QuantizedMatrix(
                quantizing: [Float](repeating: 1, count: 64), rows: 1, columns: 64, format: .int4(groupSize: 128))
        }
        #expect(throws: OpError.self) {
            try QuantizedMatrix(
                quantizing: [.nan] + [Float](repeating: 1, count: 31), rows: 1, columns: 32, format: .q4_1)
        }
        #expect(throws: OpError.self) {
            try QuantizedMatrix(quantizing: [Float](repeating: 1, count: 32), rows: 2, columns: 32, format: .q4_1)
        }
        #expect(throws: OpError.self) {
            try QuantizedMatrix(
                quantizing: [Float](repeating: 1, count: 32), rows: 1, columns: 32, format: .q8_0,
                inputScale: [Float](repeating: 0, count: 32))
        }
    }
}
