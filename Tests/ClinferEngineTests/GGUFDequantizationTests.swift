import ClinferEngine
import ClinferOps
import Foundation
import Testing

@Suite("GGUF quant formats: bit-exact dequantization, device form, stacking")
struct GGUFDequantizationTests {
    struct GoldenBlocks: Decodable {
        let elements: Int
        let bytes: String
        let bits: [UInt32]

        var raw: [UInt8] {
            let hex = Array(bytes.utf8)
            return stride(from: 0, to: hex.count, by: 2).map {
                UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)!
            }
        }
    }

    static let goldenBlocks = Result { try golden("quant-blocks.json", as: [String: GoldenBlocks].self) }

    /// Every GGUF format's file name and tensor type.
    static let types: [GGUFTensorType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    @Test(
        "random blocks read from a GGUF file equal the gguf package's dequantization bit for bit",
        arguments: types)
    func bitExact(type: GGUFTensorType) throws {
        let blocks = try #require(Self.goldenBlocks.get()[type.name])
        var writer = GGUFWriter()
        try writer.addTensor("t", type: type, dimensions: [blocks.elements], bytes: blocks.raw)
        let values = try FormatFixtures.withTemporaryFile(writer.serialized(), suffix: ".gguf") { path in
            let file = try GGUFFile(path: path)
            return try file.floats(of: try #require(file.tensor(named: "t")))
        }
        #expect(values.count == blocks.elements)
        let mismatches = zip(values, blocks.bits).filter { $0.bitPattern != $1 }.count
        #expect(mismatches == 0, "\(type): \(mismatches) of \(values.count) values differ from gguf's")
    }

    @Test("the device form (q·d + m per group) reproduces the decoded values", arguments: types)
    func deviceForm(type: GGUFTensorType) throws {
        let format = try #require(type.quantFormat)
        let matrix = try QuantizedMatrix.randomBlocks(format: format, rows: 3, columns: 512, seed: 5)
        let decoded = matrix.dequantized()
        let backend = try #require(try OpenCLBackend.make(), "no OpenCL device")
        let device = try DeviceQuantizedMatrix(backend: backend, copying: matrix).dequantized(backend)
        let worst = zip(decoded, device).map { abs($0 - $1) / max(1, abs($0)) }.max()!
        #expect(worst <= 1e-6, "\(format): device form off by \(worst)")
        #expect(format.storageBytes(rows: 3, columns: 512) == matrix.data.count)
    }

    @Test("rows of a stacked Q5_0 + Q8_0 matrix decode in their own formats; Q4_K and Q6_K do not stack")
    func mixedStacking() throws {
        let q = try QuantizedMatrix.randomBlocks(format: .q5_0, rows: 5, columns: 64, seed: 1)
        let v = try QuantizedMatrix.randomBlocks(format: .q8_0, rows: 2, columns: 64, seed: 2)
        let stacked = try QuantizedMatrix.stackingRows([q, v])
        #expect(stacked.rows == 7 && stacked.segments.map(\.format) == [.q5_0, .q8_0])
        #expect(stacked.dequantized() == q.dequantized() + v.dequantized())
        #expect(try stacked.row(6) == v.row(1))
        #expect(try stacked.row(4) == q.row(4))
        let backend = try #require(try OpenCLBackend.make(), "no OpenCL device")
        #expect(
            try DeviceQuantizedMatrix(backend: backend, copying: stacked).dequantized(backend) == stacked.dequantized())
        let k4 = try QuantizedMatrix.randomBlocks(format: .q4_K, rows: 1, columns: 256, seed: 3)
        let k6 = try QuantizedMatrix.randomBlocks(format: .q6_K, rows: 1, columns: 256, seed: 4)
        #expect(throws: OpError.self) { try QuantizedMatrix.stackingRows([k4, k6]) }
    }

    @Test("K-quant tensors need rows of whole super-blocks; truncated data is corrupt")
    func kQuantShapes() throws {
        #expect(throws: OpError.self) {
            try QuantizedMatrix(ggufBytes: [UInt8](repeating: 0, count: 144), format: .q4_K, rows: 1, columns: 128)
        }
        #expect(throws: OpError.self) {
            try QuantizedMatrix(ggufBytes: [UInt8](repeating: 0, count: 209), format: .q6_K, rows: 1, columns: 256)
        }
        #expect(throws: OpError.self) {
            try QuantizedMatrix.randomBlocks(format: .q5_K, rows: 2, columns: 320, seed: 1)
        }
        #expect(GGUFTensorType.q4_K.byteCount(dimensions: [320, 2]) == nil)
    }
}
