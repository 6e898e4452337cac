import ClinferEngine
import ClinferOps
import Foundation
import Testing

@Suite("GGUF: files written by GGUFWriter read back exactly")
struct GGUFRoundTripTests {
    /// Every metadata value type, including empty, string and nested arrays.
    static let metadata: [(String, GGUFValue)] = [
        ("general.architecture", .string("llama")),
        ("general.name", .string("tiny ✓ test — ünïcode")),
        ("test.uint8", .uint8(200)),
        ("test.int8", .int8(-100)),
        ("test.uint16", .uint16(60000)),
        ("test.int16", .int16(-30000)),
        ("test.uint32", .uint32(4_000_000_000)),
        ("test.int32", .int32(-2_000_000_000)),
        ("test.uint64", .uint64(UInt64.max)),
        ("test.int64", .int64(Int64.min)),
        ("test.float32", .float32(1e-5)),
        ("test.float64", .float64(-2.5e300)),
        ("test.true", .bool(true)),
        ("test.false", .bool(false)),
        ("test.empty_string", .string("")),
        ("test.uint8s", .array(.uint8([0, 1, 255]))),
        ("test.int8s", .array(.int8([-128, 0, 127]))),
        ("test.uint16s", .array(.uint16([1, 65535]))),
        ("test.int16s", .array(.int16([-32768, 32767]))),
        ("test.uint32s", .array(.uint32([7, 4_294_967_295]))),
        ("test.int32s", .array(.int32([-1, 2, -3]))),
        ("test.uint64s", .array(.uint64([0, UInt64.max]))),
        ("test.int64s", .array(.int64([Int64.min, Int64.max]))),
        ("test.float32s", .array(.float32([0.5, -1.25, .infinity]))),
        ("test.float64s", .array(.float64([1.0 / 3.0]))),
        ("test.bools", .array(.bool([true, false, true]))),
        ("tokenizer.ggml.tokens", .array(.string(["<s>", "hello", "", "wörld", "Ġthe"]))),
        ("test.empty_array", .array(.float32([]))),
        ("test.nested", .array(.array([.string(["a", "b"]), .int32([1, 2, 3]), .array([.uint8([9])]), .bool([])]))),
        ("general.alignment", .uint32(64)),
    ]

    struct Written {
        let bytes: [UInt8]
        let floats: [String: [Float]]
        let tensorBytes: [String: [UInt8]]
    }

    /// A file with all six supported tensor types (F32 via raw bytes, the rest from floats).
    static func written() throws -> Written {
        var writer = GGUFWriter(alignment: 64)
        for (key, value) in metadata { writer.set(key, value) }
        var floats: [String: [Float]] = [:], raw: [String: [UInt8]] = [:]
        let specs: [(String, GGUFTensorType, [Int])] = [
            ("f16.weight", .f16, [5, 3]),
            ("bf16.weight", .bf16, [7]),
            ("q8_0.weight", .q8_0, [64, 3]),
            ("q4_0.weight", .q4_0, [32, 2]),
            ("q4_1.weight", .q4_1, [96, 2]),
        ]
        for (index, (name, type, dimensions)) in specs.enumerated() {
            let values = SplitMix64.floats(dimensions.reduce(1, *), seed: UInt64(index + 1), in: -3...3)
            try writer.addTensor(name, dimensions: dimensions, floats: values, as: type)
            floats[name] = values
        }
        let f32 = SplitMix64.floats(12, seed: 99)
        raw["f32.norm"] = f32.flatMap { RawGGUF.u32($0.bitPattern) }
        try writer.addTensor("f32.norm", type: .f32, dimensions: [4, 3], bytes: raw["f32.norm"]!)
        floats["f32.norm"] = f32
        for (name, type, dimensions) in specs where type.quantFormat != nil {
            let matrix = try QuantizedMatrix(
                quantizing: floats[name]!, rows: dimensions[1], columns: dimensions[0], format: type.quantFormat!)
            raw[name] = matrix.data
        }
        return Written(bytes: writer.serialized(), floats: floats, tensorBytes: raw)
    }

    @Test("metadata of every value type, in file order, reads back equal")
    func metadataRoundTrip() throws {
        let written = try Self.written()
        let file = try FormatFixtures.withTemporaryFile(written.bytes, suffix: ".gguf") { try GGUFFile(path: $0) }
        #expect(file.version == 3)
        #expect(file.metadataKeys == Self.metadata.map(\.0))
        for (key, value) in Self.metadata { #expect(file.metadata[key] == value, "\(key)") }
        #expect(file.metadata.count == Self.metadata.count)
        #expect(file.string("general.architecture") == "llama")
        #expect(file.int("test.int8") == -100)
        #expect(file.int("test.uint64") == nil, "UInt64.max does not fit Int")
        #expect(file.float("test.float32") == 1e-5)
        #expect(file.float("test.uint16") == 60000)
        #expect(file.bool("test.true") == true)
        #expect(file.strings("tokenizer.ggml.tokens") == ["<s>", "hello", "", "wörld", "Ġthe"])
        #expect(file.ints("test.int32s") == [-1, 2, -3])
        #expect(file.ints("test.uint64s") == nil)
        #expect(file.floats("test.float32s") == [0.5, -1.25, .infinity])
        #expect(file.metadata["test.nested"]?.arrayValue?.element(at: 2) == .array(.array([.uint8([9])])))
        #expect(try file.requireInt("test.uint16") == 60000)
        #expect(try file.requireString("general.name") == "tiny ✓ test — ünïcode")
    }

    @Test("tensors of all six types read back: quant bytes identical, floats equal their dequantization")
    func tensorRoundTrip() throws {
        let written = try Self.written()
        let file = try FormatFixtures.withTemporaryFile(written.bytes, suffix: ".gguf") { try GGUFFile(path: $0) }
        #expect(file.alignment == 64)
        #expect(file.dataOffset % 64 == 0)
        #expect(
            file.tensors.map(\.name) == [
                "f16.weight", "bf16.weight", "q8_0.weight", "q4_0.weight", "q4_1.weight", "f32.norm",
            ])
        for info in file.tensors {
            #expect(info.fileOffset % 64 == 0 && info.fileOffset == file.dataOffset + info.offset)
            #expect(file.tensor(named: info.name) == info)
            let source = try #require(written.floats[info.name])
            let values = try file.floats(of: info)
            #expect(values.count == info.elementCount)
            switch info.type {
            case .f32:
                #expect(values == source)
                #expect(Array(file.bytes(of: info)) == written.tensorBytes[info.name])
            case .f16:
                #expect(values == source.map { Float(Float16($0)) })
            case .bf16:
                #expect(zip(values, source).allSatisfy { abs($0 - $1) <= abs($1) / 256 })
                #expect(values.allSatisfy { $0.bitPattern & 0xFFFF == 0 })
            case .q8_0, .q4_0, .q4_1:
                let stored = try #require(written.tensorBytes[info.name])
                #expect(Array(file.bytes(of: info)) == stored)
                let matrix = try file.quantizedMatrix(info)
                #expect(
                    matrix.format == info.type.quantFormat && matrix.rows == info.dimensions[1]
                        && matrix.columns == info.dimensions[0])
                #expect(matrix.data == stored)
                #expect(values == matrix.dequantized())
                let reference = try QuantizedMatrix(
                    quantizing: source, rows: matrix.rows, columns: matrix.columns, format: matrix.format)
                #expect(values == reference.dequantized())
            default:
                Issue.record("unexpected type \(info.type)")
            }
        }
        let bf16 = try #require(file.tensor(named: "bf16.weight"))
        #expect(bf16.dimensions == [7] && bf16.shape == [7] && bf16.byteCount == 14)
        let q41 = try #require(file.tensor(named: "q4_1.weight"))
        #expect(q41.byteCount == 2 * 3 * 20 && q41.shape == [2, 96])
    }

    @Test("the in-memory initializer reads the same file")
    func inMemory() throws {
        let written = try Self.written()
        let fromDisk = try FormatFixtures.withTemporaryFile(written.bytes, suffix: ".gguf") { try GGUFFile(path: $0) }
        let fromMemory = try GGUFFile(bytes: written.bytes, name: "memory.gguf")
        #expect(fromMemory.path == "memory.gguf")
        #expect(fromMemory.metadata == fromDisk.metadata && fromMemory.tensors == fromDisk.tensors)
        #expect(fromMemory.fileSize == written.bytes.count)
    }

    @Test("default alignment 32, no tensors, and version 2 files parse")
    func minimalFiles() throws {
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("none"))
        let empty = try GGUFFile(bytes: writer.serialized())
        #expect(empty.alignment == 32 && empty.tensors.isEmpty && empty.metadata["general.alignment"] == nil)

        var v2 = RawGGUF.file(
            version: 2, pairs: [RawGGUF.pair("k", type: 4, RawGGUF.u32(7))],
            tensors: [RawGGUF.tensor("t", dims: [2], type: 0, offset: 0)])
        v2 += RawGGUF.u32(Float(1).bitPattern) + RawGGUF.u32(Float(2).bitPattern)
        let file = try GGUFFile(bytes: v2)
        #expect(file.version == 2 && file.int("k") == 7)
        #expect(try file.floats(of: file.tensors[0]) == [1, 2])
    }

    @Test("the writer rejects inconsistent tensors")
    func writerValidation() {
        var writer = GGUFWriter()
        expectCorrupt("needs 34 bytes") { try writer.addTensor("a", type: .q8_0, dimensions: [32], bytes: [0]) }
        expectCorrupt("cannot have dimensions") { try writer.addTensor("b", type: .q4_0, dimensions: [33], bytes: []) }
        expectCorrupt("1 to 4 dimensions") {
            try writer.addTensor("c", type: .f32, dimensions: [1, 1, 1, 1, 1], bytes: [0, 0, 0, 0])
        }
        expectCorrupt("values for dimensions") { try writer.addTensor("d", dimensions: [3], floats: [1], as: .f32) }
        #expect(throws: ModelFormatError.self) {
            try writer.addTensor("e", dimensions: [32], floats: [Float](repeating: 1, count: 32), as: .q4_K)
        }
        #expect(throws: Never.self) { try writer.addTensor("f", dimensions: [1], floats: [1], as: .f32) }
        expectCorrupt("duplicate") { try writer.addTensor("f", dimensions: [1], floats: [1], as: .f32) }
    }
}
